using System.Data;
using Npgsql;

namespace Glimpse.Catalog.Postgres;

internal sealed partial class PostgresCatalog
{
    public CatalogStats GetStats() => _retry.Run(ReadStats);

    CatalogStats ReadStats()
    {
        using var conn = Open();
        var byStatus = new List<(int, long)>();
        using (var cmd = Cmd(conn, "SELECT status, COUNT(*) FROM glimpse.images WHERE library_id = @lib GROUP BY status", null, ("lib", _library)))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                byStatus.Add((r.GetInt32(0), r.GetInt64(1)));

        var reasons = new List<(string, string, long)>();
        using (var cmd = Cmd(conn, """
            SELECT COALESCE(fail_stage, ''), COALESCE(fail_reason, ''), COUNT(*) FROM glimpse.images WHERE library_id = @lib AND status = 3
            GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT @shown
            """, null, ("lib", _library), ("shown", CatalogRules.FailureReasonsShown)))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                reasons.Add((r.GetString(0), r.GetString(1), r.GetInt64(2)));

        double rate;
        using (var cmd = Cmd(conn, $"""
            SELECT COUNT(*), COALESCE(MIN(done_at), 0), {ServerNowMs} FROM glimpse.images
            WHERE library_id = @lib AND done_at >= {ServerNowMs} - @window
            """, null, ("lib", _library), ("window", (long)CatalogRules.RateWindow.TotalMilliseconds)))
        using (var r = cmd.ExecuteReader())
        {
            r.Read();
            rate = CatalogRules.RecentRate(r.GetInt64(0), r.GetInt64(1), r.GetInt64(2));
        }

        long bytes;
        using (var cmd = Cmd(conn, "SELECT pg_total_relation_size('glimpse.images') + pg_total_relation_size('glimpse.vectors')", null))
            bytes = Convert.ToInt64(cmd.ExecuteScalar());
        return CatalogRules.Stats(byStatus, reasons, rate, bytes);
    }

    public IReadOnlyList<FailedEntry> ListFailed() => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, """
            SELECT path, COALESCE(fail_stage, ''), COALESCE(fail_reason, ''), attempts FROM glimpse.images
            WHERE library_id = @lib AND status = 3 ORDER BY path
            """, null, ("lib", _library));
        using var r = cmd.ExecuteReader();
        var rows = new List<FailedEntry>();
        while (r.Read())
            rows.Add(new FailedEntry(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3)));
        return rows;
    });

    public IEnumerable<StoredVector> ReadVectors()
    {
        // Streamed from one REPEATABLE READ snapshot: a million vectors are never held by the
        // driver at once, and commits landing meanwhile neither show up half nor block them.
        using var conn = Open();
        using var tx = conn.BeginTransaction(IsolationLevel.RepeatableRead);
        using var cmd = Cmd(conn, """
            SELECT i.id, i.path, i.embedding_index, v.vector FROM glimpse.images i JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE i.library_id = @lib AND i.status = 2 ORDER BY i.embedding_index
            """, tx, ("lib", _library));
        using var r = cmd.ExecuteReader(CommandBehavior.SequentialAccess);
        while (r.Read())
            yield return VectorBlob.ReadStored(r);
    }

    public DoneSet ReadDoneSet() => _retry.Run(() =>
    {
        using var conn = Open();
        // SUM over bigint is numeric in PostgreSQL: cast back (the sums fit a bigint by construction).
        using var cmd = Cmd(conn, $"""
            SELECT n, s::bigint FROM (SELECT {DoneSet.Sql} FROM glimpse.images WHERE library_id = @lib AND status = 2) AS t(n, s)
            """, null, ("lib", _library));
        using var r = cmd.ExecuteReader();
        r.Read();
        return new DoneSet(r.GetInt64(0), r.GetInt64(1));
    });

    public long CountDone() => Scalar("SELECT COUNT(*) FROM glimpse.images WHERE library_id = @lib AND status = 2");

    public IReadOnlyList<StoredVector> ReadVectorsSince(long sinceMs) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, """
            SELECT i.id, i.path, i.embedding_index, v.vector FROM glimpse.images i JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE i.library_id = @lib AND i.done_at >= @since AND i.status = 2
            """, null, ("lib", _library), ("since", sinceMs));
        using var r = cmd.ExecuteReader();
        var rows = new List<StoredVector>();
        while (r.Read())
            rows.Add(VectorBlob.ReadStored(r));
        return rows;
    });

    public long CountDoneSince(long sinceMs) =>
        Scalar("SELECT COUNT(*) FROM glimpse.images WHERE library_id = @lib AND done_at >= @since AND status = 2", ("since", sinceMs));

    public IReadOnlyDictionary<long, string> DonePaths(IEnumerable<long> imageIds)
    {
        long[] ids = imageIds.Distinct().ToArray();
        return _retry.Run(() => DonePaths(ids));
    }

    Dictionary<long, string> DonePaths(long[] ids)
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT id, path FROM glimpse.images WHERE id = ANY(@ids) AND library_id = @lib AND status = 2", null,
            ("lib", _library), ("ids", ids));
        using var r = cmd.ExecuteReader();
        var result = new Dictionary<long, string>();
        while (r.Read())
            result[r.GetInt64(0)] = r.GetString(1);
        return result;
    }

    public long LastCommitMs() => Scalar("SELECT COALESCE(MAX(done_at), 0) FROM glimpse.images WHERE library_id = @lib AND done_at IS NOT NULL");

    public long CountUnfinished() => Scalar("SELECT COUNT(*) FROM glimpse.images WHERE library_id = @lib AND status < 2");

    public string? PathOfImage(long imageId) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT path FROM glimpse.images WHERE id = @id AND library_id = @lib AND status = 2", null, ("lib", _library), ("id", imageId));
        return cmd.ExecuteScalar() as string;
    });

    public StoredVector? FindDone(string path) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, """
            SELECT i.id, i.path, i.embedding_index, v.vector FROM glimpse.images i JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE i.library_id = @lib AND i.path = @path AND i.status = 2
            """, null, ("lib", _library), ("path", path));
        using var r = cmd.ExecuteReader();
        return r.Read() ? VectorBlob.ReadStored(r) : null;
    });
}
