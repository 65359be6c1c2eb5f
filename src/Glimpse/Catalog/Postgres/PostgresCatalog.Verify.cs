using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary><c>glimpse verify</c> on a server's library: the same checklist as the SQLite catalog's.</summary>
internal sealed partial class PostgresCatalog
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
        CatalogCounters counters = ReadCounters();
        var check = new VerifyChecklist(Model, counters);

        const string Mine = "library_id = @lib";
        long rows = Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine}");
        long vectors = Scalar($"SELECT COUNT(*) FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id WHERE i.{Mine}");

        // UNIQUE (library_id, embedding_index) makes shared indexes impossible, and the foreign key
        // orphaned vectors; holes and the counter can still be wrong. The server keeps its own pages sound.
        check.Density(Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND embedding_index IS NOT NULL"),
            Scalar($"SELECT COALESCE(MAX(embedding_index) + 1, 0) FROM glimpse.images WHERE {Mine}"));
        check.BeyondCounter(Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND embedding_index >= @n", ("n", counters.NextEmbeddingIndex)));
        const string NoVector = "status = 2 AND NOT EXISTS (SELECT 1 FROM glimpse.vectors v WHERE v.image_id = i.id)";
        check.DoneWithoutVector(Scalar($"SELECT COUNT(*) FROM glimpse.images i WHERE i.{Mine} AND {NoVector}"),
            FirstPath($"SELECT path FROM glimpse.images i WHERE i.{Mine} AND {NoVector} LIMIT 1"));
        check.DoneWithoutIndex(Scalar($"SELECT COUNT(*) FROM glimpse.images WHERE {Mine} AND status = 2 AND embedding_index IS NULL"),
            FirstPath($"SELECT path FROM glimpse.images WHERE {Mine} AND status = 2 AND embedding_index IS NULL LIMIT 1"));
        if (vectors > 0)
            check.Vectors(vectors, ReadBlobs);
        return check.Report(rows, vectors);
    }

    IEnumerable<(string, byte[])> ReadBlobs()
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT i.path, v.vector FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id WHERE i.library_id = @lib", null,
            ("lib", _library));
        using var r = cmd.ExecuteReader(System.Data.CommandBehavior.SequentialAccess);
        while (r.Read())
            yield return (r.GetString(0), r.GetFieldValue<byte[]>(1));
    }

    string FirstPath(string sql)
    {
        using var conn = Open();
        using var cmd = Cmd(conn, sql, null, ("lib", _library));
        return cmd.ExecuteScalar() as string ?? "";
    }
}
