using Npgsql;

namespace Glimpse.Catalog.Postgres;

internal sealed partial class PostgresCatalog
{
    // SKIP LOCKED: workers claiming at the same moment each take other rows instead of queueing on
    // the same ones.
    internal static readonly string ClaimQuery = $"""
        WITH picked AS (
            SELECT id FROM glimpse.images
            WHERE library_id = @lib AND {CatalogRules.Claimable(ServerNowMs)}
            ORDER BY id
            LIMIT @count
            FOR UPDATE SKIP LOCKED)
        UPDATE glimpse.images i SET status = 1, lease_owner = @owner, lease_until = {ServerNowMs} + @lease_ms
        FROM picked WHERE i.id = picked.id
        RETURNING i.id, i.path, i.size, i.mtime_ns
        """;

    public RegisterResult Register(IReadOnlyList<ScannedFile> files)
    {
        if (files.Count == 0)
            return new RegisterResult(0, 0);
        // Sorted, so two machines registering the same files lock rows in the same order (no deadlock).
        var sorted = files.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        string[] paths = sorted.Select(f => f.Path).ToArray();
        return _retry.Run(() =>
        {
            lock (_scanLock)
                if (_scan is { } scan)
                    return Register(LiveConnection(scan), sorted, paths, recordSeen: true);
            using var conn = Open();
            return Register(conn, sorted, paths, recordSeen: false);
        });
    }

    RegisterResult Register(NpgsqlConnection conn, List<ScannedFile> sorted, string[] paths, bool recordSeen)
    {
        using var tx = conn.BeginTransaction();
        using var upsert = Cmd(conn, $"""
            INSERT INTO glimpse.images AS i (library_id, path, size, mtime_ns, status)
            SELECT @lib, f.path, f.size, f.mtime, 0 FROM unnest(@paths::text[], @sizes::bigint[], @mtimes::bigint[]) AS f(path, size, mtime)
            ORDER BY f.path
            ON CONFLICT (library_id, path) {CatalogRules.RegisterAgain}
            """, tx,
            ("lib", _library), ("paths", paths), ("sizes", sorted.Select(f => f.Size).ToArray()), ("mtimes", sorted.Select(f => f.MtimeNs).ToArray()));
        int changed = upsert.ExecuteNonQuery();
        if (recordSeen)
        {
            using var seen = Cmd(conn, "INSERT INTO pg_temp.scan_seen(path) SELECT unnest(@paths::text[]) ON CONFLICT DO NOTHING", tx, ("paths", paths));
            seen.ExecuteNonQuery();
        }
        tx.Commit();
        return new RegisterResult(changed, sorted.Count - changed);
    }

    public IReadOnlyList<ClaimedImage> Claim(string owner, int count, TimeSpan lease) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, ClaimQuery, null, ("lib", _library), ("count", count), ("owner", owner), ("lease_ms", (long)lease.TotalMilliseconds));
        using var r = cmd.ExecuteReader();
        var claimed = new List<ClaimedImage>(count);
        while (r.Read())
            claimed.Add(new ClaimedImage(r.GetInt64(0), r.GetString(1), r.GetInt64(2), r.GetInt64(3)));
        claimed.Sort((a, b) => a.Id.CompareTo(b.Id));
        return claimed;
    });

    /// <summary>
    /// Renews the worker's leases, skipping rows another transaction holds: those are this worker's
    /// own batch being committed (done in a moment, nothing to renew). Waiting for them would hang
    /// the heartbeat behind its own commit whenever that commit queues for the library row.
    /// </summary>
    public void RenewLeases(string owner, TimeSpan lease) =>
        Execute($"""
            UPDATE glimpse.images SET lease_until = {ServerNowMs} + @lease_ms
            WHERE id IN (SELECT id FROM glimpse.images WHERE library_id = @lib AND status = 1 AND lease_owner = @owner FOR UPDATE SKIP LOCKED)
            """, ("lease_ms", (long)lease.TotalMilliseconds), ("owner", owner));

    public IReadOnlyList<LeaseHolder> ListLeaseHolders() => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, $"""
            SELECT lease_owner, COUNT(*), MAX(lease_until) < {ServerNowMs} FROM glimpse.images
            WHERE library_id = @lib AND status = 1 AND lease_owner IS NOT NULL GROUP BY lease_owner
            """, null, ("lib", _library));
        using var r = cmd.ExecuteReader();
        var holders = new List<LeaseHolder>();
        while (r.Read())
            holders.Add(new LeaseHolder(r.GetString(0), r.GetInt64(1), r.GetBoolean(2)));
        return holders;
    });

    public IReadOnlyList<string> ListLeaseOwners() => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT DISTINCT lease_owner FROM glimpse.images WHERE library_id = @lib AND status = 1 AND lease_owner IS NOT NULL", null,
            ("lib", _library));
        using var r = cmd.ExecuteReader();
        var owners = new List<string>();
        while (r.Read())
            owners.Add(r.GetString(0));
        return owners;
    });

    public int ReleaseClaims(string owner) =>
        Execute("UPDATE glimpse.images SET status = 0, lease_owner = NULL, lease_until = NULL WHERE library_id = @lib AND status = 1 AND lease_owner = @owner",
            ("owner", owner));

    public int ResetFailed() =>
        Execute("UPDATE glimpse.images SET status = 0, fail_stage = NULL, fail_reason = NULL WHERE library_id = @lib AND status = 3");

    public bool HasUnfinished() =>
        Scalar("SELECT COUNT(*) FROM (SELECT 1 FROM glimpse.images WHERE library_id = @lib AND status < 2 LIMIT 1) AS any_row") != 0;

    /// <summary>The server's plan for the claim query, for tests that keep it on the partial index.</summary>
    internal string ExplainClaimPlan()
    {
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        using var cmd = Cmd(conn, "EXPLAIN " + ClaimQuery, tx, ("lib", _library), ("count", 32), ("owner", "explain"), ("lease_ms", 1000L));
        using var r = cmd.ExecuteReader();
        var lines = new List<string>();
        while (r.Read())
            lines.Add(r.GetString(0));
        return string.Join("\n", lines); // the transaction is rolled back: EXPLAIN without ANALYZE changes nothing anyway
    }
}
