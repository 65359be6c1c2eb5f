using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>
/// <c>glimpse verify</c>: proves the catalog's invariants instead of trusting them. Reads every
/// row and vector once; a million vectors are about 2 GB of reading.
/// </summary>
internal sealed partial class SqliteCatalog
{
    public VerifyReport Verify()
    {
        try
        {
            return VerifyUnguarded();
        }
        catch (SqliteException e)
        {
            // A damaged file is an unusable catalog: one CatalogException at the boundary.
            throw new CatalogException($"{Location} cannot be read: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    VerifyReport VerifyUnguarded()
    {
        lock (_lock)
        {
            CatalogCounters counters = ReadCounters();
            var check = new VerifyChecklist(Model, counters);

            var integrity = new List<string>();
            using (var cmd = Command("PRAGMA integrity_check(20)"))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read())
                    integrity.Add(reader.GetString(0));
            check.StorageIntegrity(integrity);

            long rows = Scalar("SELECT COUNT(*) FROM images");
            long vectors = Scalar("SELECT COUNT(*) FROM vectors");

            check.SharedIndexes(Scalar("""
                SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM images WHERE embedding_index IS NOT NULL GROUP BY embedding_index HAVING n > 1)
                """));
            check.Density(Scalar("SELECT COUNT(DISTINCT embedding_index) FROM images WHERE embedding_index IS NOT NULL"),
                Scalar("SELECT COALESCE(MAX(embedding_index) + 1, 0) FROM images"));
            check.BeyondCounter(Scalar("SELECT COUNT(*) FROM images WHERE embedding_index >= $n", null, ("$n", counters.NextEmbeddingIndex)));

            const string NoVector = "status = 2 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = i.id)";
            check.DoneWithoutVector(Scalar($"SELECT COUNT(*) FROM images i WHERE {NoVector}"), FirstPath($"SELECT path FROM images i WHERE {NoVector} LIMIT 1"));
            check.DoneWithoutIndex(Scalar("SELECT COUNT(*) FROM images WHERE status = 2 AND embedding_index IS NULL"),
                FirstPath("SELECT path FROM images WHERE status = 2 AND embedding_index IS NULL LIMIT 1"));
            check.OrphanVectors(Scalar("SELECT COUNT(*) FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = v.image_id)"));
            if (vectors > 0)
                check.Vectors(vectors, ReadBlobs);
            return check.Report(rows, vectors);
        }
    }

    IEnumerable<(string, byte[])> ReadBlobs()
    {
        using var cmd = Command("SELECT i.path, v.vector FROM vectors v LEFT JOIN images i ON i.id = v.image_id");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            yield return (reader.IsDBNull(0) ? "(no image)" : reader.GetString(0), reader.GetFieldValue<byte[]>(1));
    }

    string FirstPath(string sql)
    {
        using var cmd = Command(sql);
        return cmd.ExecuteScalar() as string ?? "";
    }
}
