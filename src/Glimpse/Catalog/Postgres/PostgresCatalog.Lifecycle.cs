using System.Data;
using System.Text;
using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary>Rescans: what the folder no longer has, moved and copied files, prune and forget.</summary>
internal sealed partial class PostgresCatalog
{
    /// <summary>The server session whose temp table holds the paths a scan has seen, from BeginScan to CompleteScan.</summary>
    sealed class ScanSession(NpgsqlConnection connection)
    {
        public NpgsqlConnection Connection { get; set; } = connection;

        /// <summary>The session was lost mid-scan and its seen-set with it: this scan cannot tell what is gone.</summary>
        public bool SeenSetLost { get; set; }
    }

    ScanSession? _scan;
    readonly Lock _scanLock = new();

    public void BeginScan() => _retry.Run(() =>
    {
        // A temp table lives in one server session and is never written to the catalog's tables:
        // an unchanged rescan writes nothing shared. Other machines' scans have their own.
        lock (_scanLock)
        {
            _scan?.Connection.Dispose();
            _scan = null;
            _scan = new ScanSession(OpenScanConnection());
        }
    });

    NpgsqlConnection OpenScanConnection()
    {
        NpgsqlConnection conn = Open();
        try
        {
            using var cmd = Cmd(conn, """CREATE TEMP TABLE IF NOT EXISTS scan_seen(path text COLLATE "C" PRIMARY KEY); TRUNCATE pg_temp.scan_seen""", null);
            cmd.ExecuteNonQuery();
            return conn;
        }
        catch
        {
            conn.Dispose();
            throw;
        }
    }

    /// <summary>The scan's session; a new one (with an empty seen-set) when the server lost the old one.</summary>
    NpgsqlConnection LiveConnection(ScanSession scan)
    {
        if (scan.Connection.State != ConnectionState.Open || scan.Connection.FullState.HasFlag(ConnectionState.Broken))
        {
            scan.Connection.Dispose();
            scan.SeenSetLost = true;
            scan.Connection = OpenScanConnection();
        }
        return scan.Connection;
    }

    public ScanCompletion CompleteScan(IReadOnlyCollection<string> unreadableFolders, bool allowMassDelete, int massDeleteThreshold = 1000)
    {
        lock (_scanLock)
        {
            ScanSession scan = _scan ?? throw new InvalidOperationException("CompleteScan needs a BeginScan first.");
            try
            {
                return _retry.Run(() => MarkUnseenMissing(scan, unreadableFolders, allowMassDelete, massDeleteThreshold));
            }
            finally
            {
                _scan = null;
                scan.Connection.Dispose(); // the temp table goes with the session
            }
        }
    }

    ScanCompletion MarkUnseenMissing(ScanSession scan, IReadOnlyCollection<string> unreadableFolders, bool allowMassDelete, int massDeleteThreshold)
    {
        NpgsqlConnection conn = LiveConnection(scan);
        if (scan.SeenSetLost)
            return new ScanCompletion(0) { NotCheckedBecause = "the connection to the catalog was lost during the scan, and with it the list of files seen" };

        using var tx = conn.BeginTransaction();
        var unseen = new List<(long, string)>();
        using (var cmd = Cmd(conn, """
            SELECT id, path FROM glimpse.images i
            WHERE library_id = @lib AND status <> 4 AND NOT EXISTS (SELECT 1 FROM pg_temp.scan_seen s WHERE s.path = i.path)
            """, tx, ("lib", _library)))
        using (var r = cmd.ExecuteReader())
            while (r.Read())
                unseen.Add((r.GetInt64(0), r.GetString(1)));

        IReadOnlyList<long> gone = MassDeletionGuard.SelectGone(unseen, unreadableFolders, allowMassDelete, massDeleteThreshold,
            () => CountIn(conn, tx, "status <> 4"),
            (lo, hi) => CountIn(conn, tx, "status <> 4 AND path >= @lo AND path < @hi", ("lo", lo), ("hi", hi)));

        using (var mark = Cmd(conn, "UPDATE glimpse.images SET status = 4, lease_owner = NULL, lease_until = NULL WHERE id = ANY(@ids)", tx,
                   ("ids", gone.ToArray())))
            mark.ExecuteNonQuery();
        tx.Commit();
        return new ScanCompletion(gone.Count);
    }

    /// <summary>Into a SQLite file, as <c>catalog copy</c> does (rows and vectors, verified row by row).</summary>
    public void BackupTo(string destination, CancellationToken cancellationToken = default) =>
        CatalogBackup.Write(destination, temp =>
        {
            using var copy = new SqliteCatalog(temp);
            CopyReport report = CatalogCopier.Copy(this, copy, cancellationToken: cancellationToken);
            if (!report.Ok)
                throw new CatalogException($"the backup of {Location} did not verify: {string.Join("; ", report.Mismatches.Take(3))}");
        });

    public void RecordSkipped(SkippedFiles skipped) =>
        Execute("UPDATE glimpse.libraries SET last_scan_skipped = @v WHERE id = @lib", ("v", skipped.ToJson()));

    public SkippedFiles ReadSkipped() => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT last_scan_skipped FROM glimpse.libraries WHERE id = @lib", null, ("lib", _library));
        return SkippedFiles.FromJson(cmd.ExecuteScalar() as string);
    });

    long CountIn(NpgsqlConnection conn, NpgsqlTransaction tx, string where, params (string, object?)[] parameters)
    {
        using var cmd = Cmd(conn, $"SELECT COUNT(*) FROM glimpse.images WHERE library_id = @lib AND ({where})", tx, [("lib", _library), .. parameters]);
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public int PruneMissing() => Remove("status = 4");

    public int Forget(string pattern)
    {
        string glob = pattern.Replace('\\', '/').TrimEnd('/');
        return Remove("path ~ @glob OR path ~ @under", ("glob", GlobToRegex(glob)), ("under", GlobToRegex(glob + "/*")));
    }

    /// <summary>Deletes matching rows (vectors go with them) and counts the indexed ones, so verify can tell expected holes in embedding_index.</summary>
    int Remove(string where, params (string, object?)[] parameters) => _retry.Run(() =>
    {
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        using var delete = Cmd(conn, $"""
            WITH gone AS (DELETE FROM glimpse.images WHERE library_id = @lib AND ({where}) RETURNING embedding_index)
            SELECT COUNT(*), COUNT(embedding_index) FROM gone
            """, tx, [("lib", _library), .. parameters]);
        long removed, holes;
        using (var r = delete.ExecuteReader())
        {
            r.Read();
            (removed, holes) = (r.GetInt64(0), r.GetInt64(1));
        }
        if (holes > 0)
        {
            using var count = Cmd(conn, "UPDATE glimpse.libraries SET removed_images = removed_images + @n WHERE id = @lib", tx, ("lib", _library), ("n", holes));
            count.ExecuteNonQuery();
        }
        tx.Commit();
        return (int)removed;
    });

    /// <summary>A shell glob as SQLite's GLOB reads it ('*' any run, '?' one character, '[...]' a class), as an anchored POSIX regex.</summary>
    internal static string GlobToRegex(string glob)
    {
        var regex = new StringBuilder("^");
        for (int i = 0; i < glob.Length; i++)
        {
            char c = glob[i];
            int close = c == '[' ? glob.IndexOf(']', i + 2) : -1;
            if (close > 0)
            {
                string set = glob[(i + 1)..close];
                regex.Append('[').Append(set.StartsWith('^') ? "^" + set[1..] : set).Append(']');
                i = close;
            }
            else
                regex.Append(c switch { '*' => ".*", '?' => ".", _ when "\\.+()|{}^$[]".Contains(c) => "\\" + c, _ => c.ToString() });
        }
        return regex.Append('$').ToString();
    }

    public float[]? FindVectorByContent(string contentHash, long size) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, """
            SELECT v.vector FROM glimpse.images i JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE i.library_id = @lib AND i.content_hash = @hash AND i.size = @size AND i.status IN (2, 4)
            LIMIT 1
            """, null, ("lib", _library), ("hash", contentHash), ("size", size));
        return cmd.ExecuteScalar() is byte[] blob ? VectorBlob.ToVector(blob) : null;
    });
}
