using Glimpse.Tests.Support;

namespace Glimpse.Tests.Indexing;

// Issue 8, item 5: three real `glimpse index` processes, each with its own mount point of the
// library, share one PostgreSQL catalog; one is SIGKILLed, one is frozen (SIGSTOP) inside a commit
// past its lease and comes back as a zombie: it reconnects, and its late commit changes nothing.
public class MultiMachineTests : IDisposable
{
    const int Images = 900;
    const int LeaseSeconds = 3;
    readonly TempDir _dir = new();

    static string[] IndexArgs(params string[] extra) =>
        ["index", "--model", SharedFiles.TinyImmich, "--batch-size", "8", "--threads", "1", "--workers", "1", .. extra];

    [PostgresFact]
    public void Three_workers_a_kill_and_a_zombie_leave_every_image_with_exactly_one_vector_equal_to_a_single_machine_run()
    {
        string library = _dir.Sub("share");
        TestImages.Write(library, Images, seed: 8);
        var (cleanCode, _, cleanErr) = CliProcess.Run(IndexArgs(library, "--catalog", Path.Combine(_dir.Path, "single.db")));
        Assert.True(cleanCode == 0, cleanErr);
        var single = CatalogReader.ReadAll(Path.Combine(_dir.Path, "single.db"));

        // Each "machine" mounts the share at its own place; the catalog knows the library by name.
        string root = "share-" + Guid.NewGuid().ToString("N")[..8];
        string catalog = $"{PostgresServer.Url}?root={root}";
        string Mount(string machine)
        {
            string mount = Path.Combine(_dir.Path, machine, "mnt", "photos");
            Directory.CreateDirectory(Path.GetDirectoryName(mount)!);
            Directory.CreateSymbolicLink(mount, library);
            return mount;
        }
        string[] Worker(string machine, string options = "") =>
            IndexArgs("--catalog", catalog + options, "--root-path", $"{root}={Mount(machine)}", "--lease", $"{LeaseSeconds}", "--json");

        // The zombie's sessions are told apart by name, and the server ends one it leaves idle in a
        // transaction after 2 s (instead of Glimpse's 15 s), as happens to a suspended machine.
        string zombieSessions = $"zombie-{Guid.NewGuid():N}"[..20];
        using var killed = CliProcess.Start(Worker("a"));
        using var zombie = CliProcess.Start(Worker("b", $"&Application%20Name={zombieSessions}&Options=-c%20idle_in_transaction_session_timeout%3D2000"));
        using var survivor = CliProcess.Start(Worker("c"));

        WaitFor(() => SchemaExists() && PostgresReader.ReadAll(catalog).Values.Count(r => r.Status == 2) >= 40, "the first commits");
        killed.Signal(9);
        killed.WaitForExit(TimeSpan.FromSeconds(30));

        // Freeze the zombie in the middle of a commit: hold the library row, which every commit
        // takes after its fenced UPDATE, until the zombie waits for it; stop it; then let go. Its
        // session is then idle in a transaction holding row locks, and the server ends it.
        string zombieOwner;
        using (var blocker = PostgresServer.Connect())
        using (var hold = blocker.BeginTransaction())
        {
            using (var cmd = blocker.CreateCommand())
            {
                cmd.Transaction = hold;
                cmd.CommandText = "SELECT 1 FROM glimpse.libraries WHERE name = @name FOR UPDATE";
                cmd.Parameters.AddWithValue("name", root);
                cmd.ExecuteNonQuery();
            }
            WaitFor(() => WaitingForALock(zombieSessions) || zombie.HasExited, "the zombie to wait inside a commit");
            Assert.False(zombie.HasExited, zombie.Stderr);
            zombie.Signal(19); // SIGSTOP
            zombieOwner = PostgresReader.LeaseOwners(catalog).Single(o => o.Split('/')[1] == zombie.Id.ToString());
            hold.Rollback();
        }

        // Its leases expire and the survivor takes them over and finishes the library.
        WaitFor(() => !PostgresReader.LeaseOwners(catalog).Contains(zombieOwner), "the zombie's leases to be taken over");
        Assert.True(survivor.WaitForExit(TimeSpan.FromMinutes(3)) == 0, survivor.Stderr);
        var finished = PostgresReader.ReadAll(catalog);

        zombie.Signal(18); // the zombie wakes up, finds its session ended, reconnects and commits again: too late
        int zombieCode = zombie.WaitForExit(TimeSpan.FromMinutes(2));
        Assert.True(zombieCode == 0, zombie.Stderr);
        Assert.Contains("lost the connection to the catalog", zombie.Stderr);
        Assert.Contains("taken over by another worker", zombie.Stderr);

        var rows = PostgresReader.ReadAll(catalog); // also asserts at most one vector per image
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.Equal(single.Keys.Order(), rows.Keys.Order());
        foreach (var (path, row) in rows)
        {
            Assert.Equal(finished[path].Vector, row.Vector); // the zombie's late commit changed nothing
            Assert.Equal(1, row.Attempts); // every image committed once
            double cos = Vectors.Cosine(single[path].Vector!, row.Vector!);
            Assert.True(cos >= 0.99999, $"{path}: cosine {cos} with the single-machine run");
        }

        // Search streams the server's vectors into the same exact search and ANN index as a file catalog.
        var cache = new Dictionary<string, string> { ["XDG_CACHE_HOME"] = _dir.Sub("cache") };
        string[] Search(string mode) =>
            CliProcess.Run(["search", "--catalog", catalog, "--model", SharedFiles.TinyImmich, mode, "--paths", "-n", "5", "red and blue"], env: cache)
                .Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] exact = Search("--exact");
        Assert.Equal(5, exact.Length);
        Assert.Equal(exact, Search("--ann"));
        Assert.Single(Directory.GetFiles(Path.Combine(_dir.Path, "cache", "glimpse", "catalogs"), "*.usearch"));
        var (_, fromFile, _) = CliProcess.Run(["search", "--catalog", Path.Combine(_dir.Path, "single.db"),
            "--model", SharedFiles.TinyImmich, "--exact", "--paths", "-n", "5", "red and blue"]);
        Assert.Equal(exact, fromFile.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>False until a worker has created the catalog's tables (on a fresh server the workers do it, not the test).</summary>
    static bool SchemaExists()
    {
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT to_regclass('glimpse.images') IS NOT NULL AND to_regclass('glimpse.vectors') IS NOT NULL";
        return (bool)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// True while a session named <paramref name="application"/> waits for a lock: for the library
    /// row the test holds, directly or queued behind another worker's commit that waits for it.
    /// </summary>
    static bool WaitingForALock(string application)
    {
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = @app AND wait_event_type = 'Lock'";
        cmd.Parameters.AddWithValue("app", application);
        return Convert.ToInt32(cmd.ExecuteScalar()) > 0;
    }

    static void WaitFor(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"timed out waiting for {what}");
            Thread.Sleep(100);
        }
    }

    public void Dispose() => _dir.Dispose();
}
