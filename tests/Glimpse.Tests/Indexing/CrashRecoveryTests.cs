using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Indexing;

// Issue 3, items 6 and 7: real `glimpse index` processes, killed with SIGKILL, stopped with
// SIGTERM, and run two at a time on one catalog.
public class CrashRecoveryTests : IDisposable
{
    readonly TempDir _dir = new();

    static string[] IndexArgs(string root, string catalog, params string[] extra) =>
        ["index", root, "--model", SharedFiles.TinyImmich, "--catalog", catalog, "--batch-size", "8", "--threads", "1", .. extra];

    /// <summary>The vectors of an uninterrupted run, for comparison.</summary>
    Dictionary<string, CatalogReader.Row> CleanRun(string root)
    {
        string catalog = Path.Combine(_dir.Path, "clean.db");
        var (code, _, stderr) = CliProcess.Run(IndexArgs(root, catalog));
        Assert.True(code == 0, stderr);
        return CatalogReader.ReadAll(catalog);
    }

    static void AssertSameAsClean(Dictionary<string, CatalogReader.Row> clean, Dictionary<string, CatalogReader.Row> rows)
    {
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.Equal(clean.Keys.Order(), rows.Keys.Order());
        foreach (var (path, row) in rows)
        {
            double cos = Vectors.Cosine(clean[path].Vector!, row.Vector!);
            Assert.True(cos >= 0.99999, $"{path}: cosine {cos} with the clean run");
        }
    }

    [Fact]
    public void Killed_with_SIGKILL_at_random_moments_the_run_resumes_to_the_same_catalog_as_a_clean_run()
    {
        string root = _dir.Sub("lib");
        // Enough images that a dozen kills land before the run can finish, even on a fast machine.
        TestImages.Write(root, 1200);
        var clean = CleanRun(root);
        string catalog = Path.Combine(_dir.Path, "killed.db");

        var random = new Random(42);
        int kills = 0;
        for (int attempt = 0; attempt < 40 && kills < 12; attempt++)
        {
            using var process = CliProcess.Start(IndexArgs(root, catalog));
            Thread.Sleep(200 + random.Next(700));
            if (process.HasExited)
                break;
            process.Signal(9);
            process.WaitForExit(TimeSpan.FromSeconds(30));
            kills++;
            if (HasSchema(catalog))
            {
                // Between kills the catalog is always consistent: no index twice, no done row without its vector.
                var partial = CatalogReader.ReadAll(catalog);
                var done = partial.Values.Where(r => r.Status == 2).ToList();
                Assert.All(done, r => Assert.NotNull(r.Vector));
                Assert.Equal(done.Count, done.Select(r => r.EmbeddingIndex).Distinct().Count());
            }
        }
        Assert.True(kills >= 10, $"only {kills} kills landed before the run finished; the test needs a slower run");

        var (code, _, stderr) = CliProcess.Run(IndexArgs(root, catalog));
        Assert.True(code == 0, stderr);
        var rows = CatalogReader.ReadAll(catalog);
        AssertSameAsClean(clean, rows);
        Assert.All(rows.Values, r => Assert.Equal(1, r.Attempts)); // each image embedded and committed once
    }

    [Fact]
    public void SIGTERM_commits_what_is_in_hand_and_exits_143_with_a_count()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 400);
        string catalog = Path.Combine(_dir.Path, "term.db");
        using var process = CliProcess.Start(IndexArgs(root, catalog));
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (CountDone(catalog) == 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "no batch was committed within a minute");
            Thread.Sleep(50);
        }
        var signalled = System.Diagnostics.Stopwatch.StartNew();
        process.Signal(15);
        int code = process.WaitForExit(TimeSpan.FromSeconds(30));
        Assert.Equal(143, code);
        Assert.True(signalled.Elapsed < TimeSpan.FromSeconds(10), $"took {signalled.Elapsed} to stop");
        Assert.Matches(@"stopped: \d+ embedded this run, \d+ left", process.Stderr);

        var rows = CatalogReader.ReadAll(catalog);
        Assert.DoesNotContain(rows.Values, r => r.Status == 1); // claims were given back
        Assert.Contains(rows.Values, r => r.Status == 0);
    }

    [Fact]
    public void Two_processes_share_one_catalog_without_embedding_any_image_twice()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 240);
        var clean = CleanRun(root);
        string catalog = Path.Combine(_dir.Path, "shared.db");

        using var a = CliProcess.Start(IndexArgs(root, catalog, "--json"));
        using var b = CliProcess.Start(IndexArgs(root, catalog, "--json"));
        Assert.True(a.WaitForExit(TimeSpan.FromMinutes(3)) == 0, a.Stderr);
        Assert.True(b.WaitForExit(TimeSpan.FromMinutes(3)) == 0, b.Stderr);

        var rows = CatalogReader.ReadAll(catalog);
        AssertSameAsClean(clean, rows);
        Assert.All(rows.Values, r => Assert.Equal(1, r.Attempts));
        long doneA = DoneOf(a.Stdout), doneB = DoneOf(b.Stdout);
        Assert.Equal(240, doneA + doneB);
    }

    [Fact]
    public void Work_leased_by_a_worker_that_died_elsewhere_is_taken_over_when_its_lease_expires()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 24);
        string catalog = Path.Combine(_dir.Path, "lease.db");

        // A worker on a machine that then crashed had leased every image.
        using (var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1))
        using (var store = new SqliteCatalog(catalog))
        {
            store.BindModel(encoder.Identity);
            store.Register(new Glimpse.Indexing.FileScanner(root, null, _ => { }).Scan(CancellationToken.None).ToList());
            Assert.Equal(24, store.Claim("crashed-host/4242/1", 100, TimeSpan.FromSeconds(4)).Count);
        }

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (code, _, stderr) = CliProcess.Run(IndexArgs(root, catalog, "--json"));
        Assert.True(code == 0, stderr);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(3), "the live lease was not respected");
        var rows = CatalogReader.ReadAll(catalog);
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.All(rows.Values, r => Assert.Equal(1, r.Attempts));
    }

    /// <summary>Done rows so far; 0 while the child has not yet created the file or its schema.</summary>
    static int CountDone(string catalog)
    {
        try
        {
            return File.Exists(catalog) ? CatalogReader.ReadAll(catalog).Values.Count(r => r.Status == 2) : 0;
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return 0;
        }
    }

    /// <summary>False when a kill landed before the child created the catalog's tables (an empty file is fine).</summary>
    static bool HasSchema(string catalog)
    {
        if (!File.Exists(catalog))
            return false;
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={catalog};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'images'";
        return (long)cmd.ExecuteScalar()! == 1;
    }

    static long DoneOf(string json) =>
        System.Text.Json.JsonDocument.Parse(json).RootElement.GetProperty("done").GetInt64();

    public void Dispose() => _dir.Dispose();
}
