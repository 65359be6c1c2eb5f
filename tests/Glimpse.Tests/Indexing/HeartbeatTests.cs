using Glimpse.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Glimpse.Tests.Indexing;

// Issue 14, item 6: a heartbeat that cannot renew the run's leases (here the catalog is locked by
// another connection, so renewals hang) stops the run with one line before the leases run out,
// instead of working on claims other workers are about to take.
public class HeartbeatTests
{
    [Fact]
    public void A_run_that_cannot_renew_its_leases_stops_with_one_line_and_a_later_run_finishes()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        TestImages.Write(photos, 300);
        string catalog = Path.Combine(photos, ".glimpse", "catalog.db");
        using var run = CliProcess.Start(["index", photos, "--model", SharedFiles.TinyImmich, "--lease", "3", "--batch-size", "4", "--workers", "1"]);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!HasDone(catalog) && clock.Elapsed < TimeSpan.FromMinutes(2))
            Thread.Sleep(50);

        // Another process takes the catalog's write lock and keeps it for longer than the lease.
        using (var blocker = new SqliteConnection($"Data Source={catalog};Pooling=False"))
        {
            blocker.Open();
            using (var begin = blocker.CreateCommand())
            {
                begin.CommandText = "PRAGMA busy_timeout = 30000; BEGIN EXCLUSIVE;";
                begin.ExecuteNonQuery();
            }
            Thread.Sleep(TimeSpan.FromSeconds(6));
            using var rollback = blocker.CreateCommand();
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        int code = run.WaitForExit(TimeSpan.FromMinutes(2));
        Assert.True(code == 1, $"exit {code}\n{run.Stderr}");
        string line = Assert.Single(run.Stderr.Split('\n'), l => l.Contains("could not renew"));
        Assert.Contains("stopping before its 3 s leases run out", line);

        var (again, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich]);
        Assert.True(again == 0, $"{stdout}\n{stderr}");
        var rows = CatalogReader.ReadAll(catalog);
        Assert.Equal(300, rows.Count);
        CatalogReader.AssertCompleteAndDense(rows);
    }

    static bool HasDone(string catalog)
    {
        try
        {
            return File.Exists(catalog) && CatalogReader.ReadAll(catalog).Values.Any(r => r.Status == 2);
        }
        catch (SqliteException)
        {
            return false; // the schema is being created
        }
    }
}
