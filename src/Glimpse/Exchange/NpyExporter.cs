using Glimpse.Catalog;
using Glimpse.Numpy;
using Microsoft.Data.Sqlite;

namespace Glimpse.Exchange;

/// <summary>
/// Writes the layout numpy users of the old design have: <c>embeddings.npy</c> (N, D) float32 in
/// C order and <c>metadata.db</c> whose <c>images(file_path, embedding_index)</c> points into it.
/// Rows follow <c>embedding_index</c>, renumbered 0..N-1 where removals left holes. Both files are
/// written under temporary names and renamed into place.
/// </summary>
public static class NpyExporter
{
    public const string EmbeddingsFile = "embeddings.npy";
    public const string MetadataFile = "metadata.db";

    /// <summary>Exports every done image; file paths are written absolute (ROOT joined with the stored relative path).</summary>
    public static long Export(ICatalog catalog, string root, string outDir)
    {
        int dim = catalog.Model?.Dimension ?? throw new CatalogException($"{catalog.Location} holds no vectors yet: nothing to export.");
        Directory.CreateDirectory(outDir);

        // The paths of the rows written, in order: metadata.db must describe exactly those rows.
        var paths = new List<string>();
        long written = 0;
        AtomicFile.Write(Path.Combine(outDir, EmbeddingsFile), temp =>
        {
            using var stream = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 20);
            // The header is rewritten with the true N once the rows are counted.
            NpyFile.WriteHeader(stream, [0L, dim]);
            long headerLength = stream.Position;
            foreach (StoredVector v in catalog.ReadVectors())
            {
                NpyFile.WriteData(stream, v.Vector);
                paths.Add(v.Path);
                written++;
            }
            stream.Position = 0;
            NpyFile.WriteHeader(stream, [written, dim]);
            if (stream.Position != headerLength)
                throw new InvalidOperationException("The .npy header changed length; cannot rewrite it in place.");
            stream.Flush(flushToDisk: true);
        });

        AtomicFile.Write(Path.Combine(outDir, MetadataFile), temp =>
        {
            using var db = new SqliteConnection($"Data Source={temp};Pooling=False");
            db.Open();
            using var tx = db.BeginTransaction();
            using (var create = db.CreateCommand())
            {
                create.Transaction = tx;
                create.CommandText = """
                    CREATE TABLE images(
                        id INTEGER PRIMARY KEY,
                        file_path TEXT UNIQUE NOT NULL,
                        embedding_index INTEGER
                    );
                    """;
                create.ExecuteNonQuery();
            }
            using var insert = db.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO images(file_path, embedding_index) VALUES ($p, $i)";
            var p = insert.Parameters.Add("$p", SqliteType.Text);
            var i = insert.Parameters.Add("$i", SqliteType.Integer);
            for (int row = 0; row < paths.Count; row++)
            {
                p.Value = Path.Combine(Path.GetFullPath(root), paths[row]);
                i.Value = row;
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        });
        return written;
    }
}
