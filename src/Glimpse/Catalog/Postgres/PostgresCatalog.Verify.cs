using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary><c>glimpse verify</c> on a server's library: the same invariants as the SQLite catalog's (the server keeps its own pages sound).</summary>
public sealed partial class PostgresCatalog
{
    public VerifyReport Verify()
    {
        try
        {
            return VerifyUnguarded();
        }
        catch (NpgsqlException e)
        {
            throw new CatalogException($"{Location} cannot be read: {e.Message.ReplaceLineEndings(" ")}", e);
        }
    }

    VerifyReport VerifyUnguarded()
    {
        var problems = new List<VerifyProblem>();
        void Add(string check, long count, string detail)
        {
            if (count > 0)
                problems.Add(new VerifyProblem(check, count, detail));
        }

        const string Mine = "library_id = @lib";
        long rows = Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine}");
        long vectors = Scalar($"SELECT COUNT(*) FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id WHERE i.{Mine}");
        CatalogCounters counters = ReadCounters();

        // UNIQUE (library_id, embedding_index) makes shared indexes impossible; holes and the counter can still be wrong.
        long indexed = Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND embedding_index IS NOT NULL");
        long span = Scalar($"SELECT COALESCE(MAX(embedding_index) + 1, 0) FROM glimpse.images WHERE {Mine}");
        Add("non-dense embedding_index", Math.Max(0, span - indexed - counters.RemovedImages),
            $"indexes 0..{span - 1} hold {indexed} images; {counters.RemovedImages} were removed");
        Add("embedding_index beyond the counter", Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND embedding_index >= @n", ("n", counters.NextEmbeddingIndex)),
            $"the next index to give is {counters.NextEmbeddingIndex}: a later commit would give one twice");
        const string NoVector = "status = 2 AND NOT EXISTS (SELECT 1 FROM glimpse.vectors v WHERE v.image_id = i.id)";
        Add("done without a vector", Scalar($"SELECT COUNT(*) FROM glimpse.images i WHERE i.{Mine} AND {NoVector}"),
            FirstPath($"SELECT path FROM glimpse.images i WHERE i.{Mine} AND {NoVector} LIMIT 1"));
        Add("done without an embedding_index", Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND status = 2 AND embedding_index IS NULL"),
            FirstPath($"SELECT path FROM glimpse.images WHERE {Mine} AND status = 2 AND embedding_index IS NULL LIMIT 1"));

        if (Model is null && vectors > 0)
            Add("no model recorded", vectors, "the library holds vectors but names no model");
        else if (Model is { } model)
        {
            var audit = new VectorAudit(model.Dimension);
            using var conn = Open();
            using var cmd = Cmd(conn, "SELECT i.path, v.vector FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id WHERE i.library_id = @lib", null,
                ("lib", _library));
            using var r = cmd.ExecuteReader(System.Data.CommandBehavior.SequentialAccess);
            while (r.Read())
            {
                string path = r.GetString(0);
                audit.Inspect(path, r.GetFieldValue<byte[]>(1));
            }
            audit.Report(Add);
        }
        return new VerifyReport(rows, vectors, problems);
    }

    string FirstPath(string sql)
    {
        using var conn = Open();
        using var cmd = Cmd(conn, sql, null, ("lib", _library));
        return cmd.ExecuteScalar() as string ?? "";
    }
}
