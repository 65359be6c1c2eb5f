using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>
/// <c>glimpse verify</c>: proves the catalog's invariants instead of trusting them. Reads every
/// row and vector once; a million vectors are about 2 GB of reading.
/// </summary>
public sealed partial class SqliteCatalog
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
            var problems = new List<VerifyProblem>();
            void Add(string check, long count, string detail)
            {
                if (count > 0)
                    problems.Add(new VerifyProblem(check, count, detail));
            }

            var integrity = new List<string>();
            using (var cmd = Command("PRAGMA integrity_check(20)"))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read())
                    integrity.Add(reader.GetString(0));
            if (integrity is not ["ok"])
                Add("integrity", integrity.Count, string.Join("; ", integrity.Take(3)));

            long rows = Scalar("SELECT COUNT(*) FROM images");
            long vectors = Scalar("SELECT COUNT(*) FROM vectors");

            Add("duplicate embedding_index", Scalar("""
                SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM images WHERE embedding_index IS NOT NULL GROUP BY embedding_index HAVING n > 1)
                """), "two images share an embedding_index");

            // Holes are expected where images were removed (prune, forget); more holes than removals are not.
            long indexed = Scalar("SELECT COUNT(DISTINCT embedding_index) FROM images WHERE embedding_index IS NOT NULL");
            long span = Scalar("SELECT COALESCE(MAX(embedding_index) + 1, 0) FROM images");
            long removed = long.Parse(TryReadInfo("removed_images") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            Add("non-dense embedding_index", Math.Max(0, span - indexed - removed),
                $"indexes 0..{span - 1} hold {indexed} images; {removed} were removed");
            long next = long.Parse(TryReadInfo("next_embedding_index") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
            Add("embedding_index beyond the counter", Scalar("SELECT COUNT(*) FROM images WHERE embedding_index >= $n", null, ("$n", next)),
                $"the next index to give is {next}: a later commit would give one twice");

            Add("done without a vector", Scalar("SELECT COUNT(*) FROM images i WHERE i.status = 2 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = i.id)"),
                FirstPath("SELECT path FROM images i WHERE i.status = 2 AND NOT EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = i.id) LIMIT 1"));
            Add("done without an embedding_index", Scalar("SELECT COUNT(*) FROM images WHERE status = 2 AND embedding_index IS NULL"),
                FirstPath("SELECT path FROM images WHERE status = 2 AND embedding_index IS NULL LIMIT 1"));
            Add("vector without an image", Scalar("SELECT COUNT(*) FROM vectors v WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.id = v.image_id)"),
                "vectors whose image row is gone");

            if (Model is null && vectors > 0)
                Add("no model recorded", vectors, "the catalog holds vectors but names no model");
            else if (Model is { } model)
                CheckVectors(model.Dimension, Add);

            return new VerifyReport(rows, vectors, problems);
        }
    }

    void CheckVectors(int dimension, Action<string, long, string> add)
    {
        var audit = new VectorAudit(dimension);
        using var cmd = Command("SELECT i.path, v.vector FROM vectors v LEFT JOIN images i ON i.id = v.image_id");
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            audit.Inspect(reader.IsDBNull(0) ? "(no image)" : reader.GetString(0), reader.GetFieldValue<byte[]>(1));
        audit.Report(add);
    }

    string FirstPath(string sql)
    {
        using var cmd = Command(sql);
        return cmd.ExecuteScalar() as string ?? "";
    }

    string? TryReadInfo(string key)
    {
        using var cmd = Command("SELECT value FROM catalog_info WHERE key = $k", null, ("$k", key));
        return cmd.ExecuteScalar() as string;
    }
}
