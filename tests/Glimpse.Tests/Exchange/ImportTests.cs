using Glimpse.Catalog;
using Glimpse.Exchange;
using Glimpse.Indexing;
using Glimpse.Models;
using Glimpse.Numpy;
using Glimpse.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Glimpse.Tests.Exchange;

// Issue 4, item 5: old-layout indexes built with the old design's defects on purpose.
public class ImportTests : IDisposable
{
    readonly TempDir _dir = new();

    /// <summary>Writes metadata.db + embeddings.npy as the old design did, rows given by hand.</summary>
    static void WriteOldIndex(string dir, float[][] vectors, IEnumerable<(string Path, long? Index)> rows)
    {
        Directory.CreateDirectory(dir);
        NpyFile.Write(Path.Combine(dir, "embeddings.npy"), vectors.SelectMany(v => v).ToArray(), [vectors.Length, 512]);
        using var db = new SqliteConnection($"Data Source={Path.Combine(dir, "metadata.db")};Pooling=False");
        db.Open();
        using var create = db.CreateCommand();
        create.CommandText = "CREATE TABLE images(id INTEGER PRIMARY KEY, file_path TEXT UNIQUE, embedding_index INTEGER, processed INTEGER DEFAULT 1)";
        create.ExecuteNonQuery();
        foreach (var (path, index) in rows)
        {
            using var insert = db.CreateCommand();
            insert.CommandText = "INSERT INTO images(file_path, embedding_index) VALUES ($p, $i)";
            insert.Parameters.AddWithValue("$p", path);
            insert.Parameters.AddWithValue("$i", (object?)index ?? DBNull.Value);
            insert.ExecuteNonQuery();
        }
    }

    static float[] Unit(int seed)
    {
        var random = new Random(seed);
        var v = Enumerable.Range(0, 512).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        ClipImageEncoder.NormalizeInPlace(v);
        return v;
    }

    [Fact]
    public async Task Good_rows_are_adopted_and_the_old_designs_defects_are_caught_and_queued()
    {
        string root = _dir.Sub("lib");
        var files = TestImages.Write(root, 8).Select(f => Path.GetRelativePath(root, f)).ToList();
        var vectors = new[] { Unit(0), Unit(1), Unit(2), new float[512], Unit(4), Unit(5), Unit(6) };
        WriteOldIndex(_dir.Sub("old"), vectors,
        [
            (Path.Combine(root, files[0]), 0),   // good, absolute path
            (files[1], 1),                       // good, relative path
            (files[2], 2),                       // shares index 2 with the next row
            (files[3], 2),
            (files[4], 3),                       // zero row: pointer committed before the vector
            (files[5], 17),                      // dangling pointer past the end
            (files[6], null),                    // never embedded
            ("gone/away.jpg", 4),                // file deleted since
            ("/elsewhere/x.jpg", 5),             // outside the root
        ]);

        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        using var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "catalog.db"));
        ImportReport report = OldIndexImporter.Import(Path.Combine(_dir.Path, "old"), root, catalog, encoder.Identity);

        Assert.Equal((9, 2, 5, 2), (report.Rows, report.Adopted, report.Pending, report.Skipped));
        Assert.Equal(2, report.Problems["embedding_index shared with another file"]);
        Assert.Equal(1, report.Problems["vector is all zeros (never written)"]);
        Assert.Equal(1, report.Problems["embedding_index out of range (dangling pointer)"]);
        Assert.Equal(1, report.Problems["no embedding_index"]);
        Assert.Equal(1, report.Problems["file no longer exists"]);
        Assert.Equal(1, report.Problems["file outside the library root"]);
        Assert.Equal(1, report.UnreferencedVectors); // row 6 of the .npy: no row points at it

        var rows = CatalogReader.ReadAll(Path.Combine(_dir.Path, "catalog.db"));
        Assert.Equal(vectors[0], rows[files[0].Replace('\\', '/')].Vector);
        Assert.Equal(vectors[1], rows[files[1].Replace('\\', '/')].Vector);
        Assert.Equal("import: embedding_index shared with another file", rows[files[2].Replace('\\', '/')].FailReason);
        Assert.Equal(0, rows[files[5].Replace('\\', '/')].Status);
        Assert.DoesNotContain(files[7].Replace('\\', '/'), rows.Keys); // not in the old index: the next scan adds it

        // The next index run embeds what was queued and what the old index never had; nothing adopted is redone.
        var summary = await new IndexingPipeline(catalog, encoder, new IndexingOptions { BatchSize = 4 })
            .RunAsync(root, null, CancellationToken.None);
        Assert.Equal(6, summary.Done);
        Assert.True(catalog.Verify().Ok);
        var after = CatalogReader.ReadAll(Path.Combine(_dir.Path, "catalog.db"));
        CatalogReader.AssertCompleteAndDense(after);
        Assert.Equal(vectors[0], after[files[0].Replace('\\', '/')].Vector);
    }

    [Fact]
    public void An_old_index_of_another_dimension_is_refused()
    {
        string old = _dir.Sub("old");
        NpyFile.Write(Path.Combine(old, "embeddings.npy"), new float[2 * 768], [2, 768]);
        WriteOldIndex(_dir.Sub("unused"), [Unit(0)], []);
        File.Copy(Path.Combine(_dir.Path, "unused", "metadata.db"), Path.Combine(old, "metadata.db"));
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        using var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "catalog.db"));
        var e = Assert.Throws<CatalogException>(() => OldIndexImporter.Import(old, _dir.Sub("lib"), catalog, encoder.Identity));
        Assert.Contains("768-d", e.Message);
    }

    public void Dispose() => _dir.Dispose();
}
