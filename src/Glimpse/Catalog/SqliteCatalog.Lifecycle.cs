using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>Rescans: what the folder no longer has, moved and copied files, prune and forget.</summary>
internal sealed partial class SqliteCatalog
{
    public void BeginScan()
    {
        lock (_lock)
        {
            // A temp table lives in this connection's temp store, never in the catalog file: an
            // unchanged rescan writes nothing to the catalog itself.
            Execute("CREATE TEMP TABLE IF NOT EXISTS scan_seen(path TEXT PRIMARY KEY) WITHOUT ROWID; DELETE FROM temp.scan_seen;");
            _scanning = true;
        }
    }

    public ScanCompletion CompleteScan(IReadOnlyCollection<string> unreadableFolders, bool allowMassDelete, int massDeleteThreshold = 1000) =>
        Writing(() => CompleteScanUnguarded(unreadableFolders, allowMassDelete, massDeleteThreshold));

    ScanCompletion CompleteScanUnguarded(IReadOnlyCollection<string> unreadableFolders, bool allowMassDelete, int massDeleteThreshold)
    {
        lock (_lock)
        {
            if (!_scanning)
                throw new InvalidOperationException("CompleteScan needs a BeginScan first.");
            _scanning = false;
            using var tx = _db.BeginTransaction(deferred: false);
            var unseen = new List<(long, string)>();
            using (var cmd = Command("""
                SELECT id, path FROM images WHERE status <> 4 AND path NOT IN (SELECT path FROM temp.scan_seen)
                """, tx))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read())
                    unseen.Add((reader.GetInt64(0), reader.GetString(1)));

            IReadOnlyList<long> gone = MassDeletionGuard.SelectGone(unseen, unreadableFolders, allowMassDelete, massDeleteThreshold,
                () => Scalar("SELECT COUNT(*) FROM images WHERE status <> 4", tx),
                (lo, hi) => Scalar("SELECT COUNT(*) FROM images WHERE status <> 4 AND path >= $lo AND path < $hi", tx, ("$lo", lo), ("$hi", hi)));

            using var mark = Command("UPDATE images SET status = 4, lease_owner = NULL, lease_until = NULL WHERE id = $id", tx);
            var id = mark.Parameters.Add("$id", SqliteType.Integer);
            foreach (long rowId in gone)
            {
                id.Value = rowId;
                mark.ExecuteNonQuery();
            }
            Execute("DELETE FROM temp.scan_seen", tx);
            tx.Commit();
            return new ScanCompletion(gone.Count);
        }
    }

    public int PruneMissing()
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            CountRemovals("status = 4", null, tx);
            int removed = Execute("DELETE FROM images WHERE status = 4", tx); // vectors go with them (ON DELETE CASCADE)
            tx.Commit();
            return removed;
        }
    }

    /// <summary>SQLite's <c>VACUUM INTO</c>: one read transaction's snapshot, written compact into a new file, WAL included.</summary>
    public void BackupTo(string destination, CancellationToken cancellationToken = default) =>
        CatalogBackup.Write(destination, temp =>
        {
            lock (_lock)
                Execute("VACUUM INTO $path", null, ("$path", temp));
        });

    public void RecordSkipped(SkippedFiles skipped) =>
        Writing(() => { RecordSkippedUnguarded(skipped); return 0; });

    void RecordSkippedUnguarded(SkippedFiles skipped)
    {
        lock (_lock)
            Execute("""
                INSERT INTO catalog_info(key, value) VALUES ('last_scan_skipped', $v)
                ON CONFLICT(key) DO UPDATE SET value = excluded.value
                """, null, ("$v", skipped.ToJson()));
    }

    public SkippedFiles ReadSkipped()
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT value FROM catalog_info WHERE key = 'last_scan_skipped'", null);
            return SkippedFiles.FromJson(cmd.ExecuteScalar() as string);
        }
    }

    /// <summary>
    /// Keeps a count of removed images that held an embedding_index, so verify can tell the holes
    /// removals leave from holes that should not be there.
    /// </summary>
    void CountRemovals(string where, (string, object?)[]? parameters, SqliteTransaction tx)
    {
        long holes = Scalar($"SELECT COUNT(*) FROM images WHERE embedding_index IS NOT NULL AND ({where})", tx, parameters ?? []);
        if (holes == 0)
            return;
        Execute("""
            INSERT INTO catalog_info(key, value) VALUES ('removed_images', $n)
            ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + $n
            """, tx, ("$n", holes));
    }

    public int Forget(string pattern)
    {
        string glob = pattern.Replace('\\', '/').TrimEnd('/');
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            (string, object?)[] args = [("$glob", glob), ("$under", glob + "/*")];
            CountRemovals("path GLOB $glob OR path GLOB $under", args, tx);
            int removed = Execute("DELETE FROM images WHERE path GLOB $glob OR path GLOB $under", tx, args);
            tx.Commit();
            return removed;
        }
    }

    public float[]? FindVectorByContent(string contentHash, long size)
    {
        lock (_lock)
        {
            using var cmd = Command("""
                SELECT v.vector FROM images i JOIN vectors v ON v.image_id = i.id
                WHERE i.content_hash = $hash AND i.size = $size AND i.status IN (2, 4)
                LIMIT 1
                """, null, ("$hash", contentHash), ("$size", size));
            return cmd.ExecuteScalar() is byte[] blob ? ToVector(blob) : null;
        }
    }
}
