using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

internal sealed partial class SqliteCatalog
{
    internal static readonly string ClaimQuery = $"""
        SELECT id, path, size, mtime_ns FROM images
        WHERE {CatalogRules.Claimable("$now")}
        ORDER BY id
        LIMIT $count
        """;

    public RegisterResult Register(IReadOnlyList<ScannedFile> files) =>
        Writing(() => RegisterUnguarded(files));

    RegisterResult RegisterUnguarded(IReadOnlyList<ScannedFile> files)
    {
        if (files.Count == 0)
            return new RegisterResult(0, 0);
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            using var upsert = Command($"""
                INSERT INTO images AS i (path, size, mtime_ns, status) VALUES ($path, $size, $mtime, 0)
                ON CONFLICT(path) {CatalogRules.RegisterAgain}
                """, tx);
            var path = upsert.Parameters.Add("$path", SqliteType.Text);
            var size = upsert.Parameters.Add("$size", SqliteType.Integer);
            var mtime = upsert.Parameters.Add("$mtime", SqliteType.Integer);
            using var seen = _scanning ? Command("INSERT OR IGNORE INTO temp.scan_seen(path) VALUES ($path)", tx) : null;
            var seenPath = seen?.Parameters.Add("$path", SqliteType.Text);
            int changed = 0;
            foreach (var file in files)
            {
                path.Value = file.Path;
                size.Value = file.Size;
                mtime.Value = file.MtimeNs;
                changed += upsert.ExecuteNonQuery();
                if (seen is not null)
                {
                    seenPath!.Value = file.Path;
                    seen.ExecuteNonQuery();
                }
            }
            tx.Commit();
            return new RegisterResult(changed, files.Count - changed);
        }
    }

    public IReadOnlyList<ClaimedImage> Claim(string owner, int count, TimeSpan lease) =>
        Writing(() => ClaimUnguarded(owner, count, lease));

    IReadOnlyList<ClaimedImage> ClaimUnguarded(string owner, int count, TimeSpan lease)
    {
        lock (_lock)
        {
            long now = NowMs();
            using var tx = _db.BeginTransaction(deferred: false);
            var claimed = new List<ClaimedImage>(count);
            using (var select = Command(ClaimQuery, tx, ("$now", now), ("$count", count)))
            using (var reader = select.ExecuteReader())
                while (reader.Read())
                    claimed.Add(new ClaimedImage(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));

            using var update = Command("UPDATE images SET status = 1, lease_owner = $owner, lease_until = $until WHERE id = $id", tx,
                ("$owner", owner), ("$until", now + (long)lease.TotalMilliseconds));
            var id = update.Parameters.Add("$id", SqliteType.Integer);
            foreach (var image in claimed)
            {
                id.Value = image.Id;
                update.ExecuteNonQuery();
            }
            tx.Commit();
            return claimed;
        }
    }

    public void RenewLeases(string owner, TimeSpan lease) =>
        Writing(() => { RenewLeasesUnguarded(owner, lease); return 0; });

    void RenewLeasesUnguarded(string owner, TimeSpan lease)
    {
        lock (_lock)
            Execute("UPDATE images SET lease_until = $until WHERE status = 1 AND lease_owner = $owner", null,
                ("$until", NowMs() + (long)lease.TotalMilliseconds), ("$owner", owner));
    }

    public IReadOnlyList<LeaseHolder> ListLeaseHolders()
    {
        lock (_lock)
        {
            using var cmd = Command("""
                SELECT lease_owner, COUNT(*), MAX(lease_until) < $now FROM images
                WHERE status = 1 AND lease_owner IS NOT NULL GROUP BY lease_owner
                """, null, ("$now", NowMs()));
            using var reader = cmd.ExecuteReader();
            var holders = new List<LeaseHolder>();
            while (reader.Read())
                holders.Add(new LeaseHolder(reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2)));
            return holders;
        }
    }

    public IReadOnlyList<string> ListLeaseOwners()
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT DISTINCT lease_owner FROM images WHERE status = 1 AND lease_owner IS NOT NULL");
            using var reader = cmd.ExecuteReader();
            var owners = new List<string>();
            while (reader.Read())
                owners.Add(reader.GetString(0));
            return owners;
        }
    }

    public int ReleaseClaims(string owner) =>
        Writing(() => ReleaseClaimsUnguarded(owner));

    int ReleaseClaimsUnguarded(string owner)
    {
        lock (_lock)
            return Execute("UPDATE images SET status = 0, lease_owner = NULL, lease_until = NULL WHERE status = 1 AND lease_owner = $owner",
                null, ("$owner", owner));
    }

    public int ResetFailed()
    {
        lock (_lock)
            return Execute("UPDATE images SET status = 0, fail_stage = NULL, fail_reason = NULL WHERE status = 3");
    }

    public bool HasUnfinished()
    {
        lock (_lock)
            return Scalar("SELECT EXISTS(SELECT 1 FROM images WHERE status < 2)") != 0;
    }

    /// <summary>SQLite's plan for the claim query, for tests that keep it on the partial index.</summary>
    internal string ExplainClaimPlan()
    {
        lock (_lock)
        {
            using var cmd = Command("EXPLAIN QUERY PLAN " + ClaimQuery, null, ("$now", 0L), ("$count", 32));
            using var reader = cmd.ExecuteReader();
            var lines = new List<string>();
            while (reader.Read())
                lines.Add(reader.GetString(3));
            return string.Join("\n", lines);
        }
    }
}
