using Glimpse.Catalog;
using ParquetSharp;

namespace Glimpse.Exchange;

/// <summary>
/// Writes one Parquet file of (path, embedding_index, vector as a list of float32) for data
/// tools (pandas, DuckDB, Polars). Rows follow <c>embedding_index</c>; paths are relative to the
/// library root, as the catalog stores them.
/// </summary>
public static class ParquetExporter
{
    public const string FileName = "embeddings.parquet";

    /// <summary>Rows per row group: about 200 MB of 512-d vectors, so readers can stream the file.</summary>
    const int RowGroupRows = 100_000;

    public static long Export(ICatalog catalog, string path)
    {
        if (catalog.Model is null)
            throw new CatalogException($"{catalog.Location} holds no vectors yet: nothing to export.");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        long written = 0;
        AtomicFile.Write(path, temp =>
        {
            Column[] columns = [new Column<string>("path"), new Column<long>("embedding_index"), new Column<float[]>("vector")];
            using var file = new ParquetFileWriter(temp, columns);
            foreach (StoredVector[] chunk in catalog.ReadVectors().Chunk(RowGroupRows))
            {
                using RowGroupWriter group = file.AppendRowGroup();
                using (var paths = group.NextColumn().LogicalWriter<string>())
                    paths.WriteBatch(chunk.Select(v => v.Path).ToArray());
                using (var indexes = group.NextColumn().LogicalWriter<long>())
                    indexes.WriteBatch(chunk.Select(v => v.EmbeddingIndex).ToArray());
                using (var vectors = group.NextColumn().LogicalWriter<float[]>())
                    vectors.WriteBatch(chunk.Select(v => v.Vector).ToArray());
                written += chunk.Length;
            }
            file.Close();
        });
        return written;
    }
}
