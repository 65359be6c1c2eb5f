using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// Issue 16 item 1: a real `glimpse watch` process keeps the catalog current. A file written
// slowly is embedded once, after it is complete; an edit is embedded again; a move reuses the
// vector; a delete marks the image missing; a SIGKILL during a burst loses nothing once the next
// watch has caught up.
public sealed class WatchCommandTests : IDisposable
{
    readonly TempDir _dir = new();
    readonly Dictionary<string, string> _env;

    public WatchCommandTests() => _env = new() { ["GLIMPSE_MODELS"] = _dir.Sub("models") };

    string Library => Path.Combine(_dir.Path, "photos");
    string CatalogPath => Path.Combine(Library, ".glimpse", "catalog.db");

    CliProcess StartWatch(double settle = 2) =>
        CliProcess.Start(["watch", Library, "--model", SharedFiles.TinyImmich, "--settle", settle.ToString(System.Globalization.CultureInfo.InvariantCulture)], env: _env);

    static void WaitFor(Func<bool> condition, TimeSpan timeout, Func<string> describe)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout)
                throw new TimeoutException(describe());
            Thread.Sleep(200);
        }
    }

    Dictionary<string, CatalogReader.Row> Rows()
    {
        try
        {
            return File.Exists(CatalogPath) ? CatalogReader.ReadAll(CatalogPath) : [];
        }
        catch (Microsoft.Data.Sqlite.SqliteException)
        {
            return []; // the watch is creating the catalog this moment
        }
    }

    [Fact]
    public void A_file_written_slowly_is_embedded_once_after_it_is_complete_and_edits_moves_and_deletes_follow()
    {
        Directory.CreateDirectory(Library);
        TestImages.Write(Library, 3);
        using var watch = StartWatch(settle: 2);
        WaitFor(() => Rows().Values.Count(r => r.Status == 2) == 3, TimeSpan.FromSeconds(60), () => $"first pass: {watch.Stderr}");
        WaitFor(() => watch.Stderr.Contains("watching"), TimeSpan.FromSeconds(10), () => watch.Stderr);

        var status = CliProcess.Run(["status", Library], env: _env);
        Assert.Contains("watch     running since", status.Stdout);

        // Written in four chunks a second apart: at no moment may a vector of part of it be stored.
        string slow = Path.Combine(Library, "slow.jpg");
        string source = Path.Combine(_dir.Path, "source.jpg");
        TestImages.WriteOne(source, 400, 300, new Random(9));
        byte[] bytes = File.ReadAllBytes(source);
        using (var stream = new FileStream(slow, FileMode.CreateNew, FileAccess.Write, FileShare.Read))
        {
            int quarter = bytes.Length / 4;
            for (int part = 0; part < 4; part++)
            {
                stream.Write(bytes, part * quarter, part == 3 ? bytes.Length - 3 * quarter : quarter);
                stream.Flush();
                Thread.Sleep(1000);
                Assert.False(Rows().ContainsKey("slow.jpg"), $"slow.jpg registered while being written (part {part})");
            }
        }
        WaitFor(() => Rows().TryGetValue("slow.jpg", out var r) && r.Status == 2, TimeSpan.FromSeconds(30), () => $"slow.jpg never embedded: {watch.Stdout}");
        var done = Rows()["slow.jpg"];
        // The event's folder was walked, not the library (the line may reach us a moment after the commit).
        WaitFor(() => System.Text.RegularExpressions.Regex.IsMatch(watch.Stdout, @"(changes|settled) \(1 folder\): embedded 1"), TimeSpan.FromSeconds(10), () => watch.Stdout);
        Assert.Equal(1, done.Attempts);
        Assert.Null(done.FailReason);

        // An edit: new content at the same path is embedded again.
        float[] before = done.Vector!;
        TestImages.WriteOne(slow, 300, 400, new Random(10));
        WaitFor(() => Rows()["slow.jpg"].Vector is { } v && !v.SequenceEqual(before) && Rows()["slow.jpg"].Status == 2, TimeSpan.FromSeconds(30),
            () => $"edit not embedded: {watch.Stdout}");

        // A move: the vector goes with the file, no inference.
        float[] moved = Rows()["slow.jpg"].Vector!;
        Directory.CreateDirectory(Path.Combine(Library, "sorted"));
        File.Move(slow, Path.Combine(Library, "sorted", "slow.jpg"));
        WaitFor(() => Rows().TryGetValue("sorted/slow.jpg", out var r) && r.Status == 2, TimeSpan.FromSeconds(30), () => $"move not seen: {watch.Stdout}");
        Assert.Equal(moved, Rows()["sorted/slow.jpg"].Vector);
        Assert.False(Rows().TryGetValue("slow.jpg", out var old) && old.Status == 2, "the old path is not done any more");

        // A delete: marked missing.
        string victim = Rows().Keys.First(k => k.StartsWith("album", StringComparison.Ordinal));
        File.Delete(Path.Combine(Library, victim));
        WaitFor(() => Rows()[victim].Status == 4, TimeSpan.FromSeconds(30), () => $"delete not seen: {watch.Stdout}");

        watch.Signal(2);
        Assert.Equal(130, watch.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Contains("no watcher is running", CliProcess.Run(["status", Library], env: _env).Stdout);
    }

    [Fact]
    public void A_watch_killed_during_a_burst_loses_nothing_once_the_next_one_has_caught_up()
    {
        Directory.CreateDirectory(Library);
        using (var first = StartWatch(settle: 1))
        {
            WaitFor(() => first.Stderr.Contains("watching"), TimeSpan.FromSeconds(60), () => first.Stderr);
            TestImages.Write(Library, 120, seed: 4); // a burst: 120 files at once
            WaitFor(() => Rows().Values.Count(r => r.Status == 2) >= 10, TimeSpan.FromSeconds(60), () => $"burst not started: {first.Stdout}{first.Stderr}");
            first.Signal(9);
            first.WaitForExit(TimeSpan.FromSeconds(10));
        }
        // The killed watch's record is left behind; status believes it only while its process lives.
        Assert.True(File.Exists(CatalogPath + ".watch"));
        Assert.Contains("no watcher is running", CliProcess.Run(["status", Library], env: _env).Stdout);

        using var second = StartWatch(settle: 1);
        WaitFor(() => Rows().Values.Count(r => r.Status == 2) == 120, TimeSpan.FromSeconds(90), () => $"not caught up: {second.Stdout}{second.Stderr}");
        var rows = Rows();
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.All(rows.Values, r => Assert.Null(r.FailReason));
        second.Signal(15);
        Assert.Equal(143, second.WaitForExit(TimeSpan.FromSeconds(30)));
        Assert.Equal(0, CliProcess.Run(["verify", Library], env: _env).ExitCode);
    }

    [Fact]
    public void A_catalog_kept_inside_the_library_does_not_wake_the_watch_with_its_own_writes()
    {
        Directory.CreateDirectory(Library);
        TestImages.Write(Library, 2);
        string catalog = Path.Combine(Library, "index", "photos.db"); // a visible folder inside the root
        using var watch = CliProcess.Start(["watch", Library, "--catalog", catalog, "--model", SharedFiles.TinyImmich, "--settle", "1"], env: _env);
        WaitFor(() => watch.Stdout.Contains("start (whole library)"), TimeSpan.FromSeconds(60), () => watch.Stderr);
        Thread.Sleep(5000); // its commits, WAL checkpoints and derived files changed meanwhile
        Assert.Single(watch.Stdout.Trim().Split('\n'));
        Assert.DoesNotContain("changes", watch.Stdout);

        TestImages.WriteOne(Path.Combine(Library, "late.jpg"), 120, 90, new Random(2));
        WaitFor(() => CatalogReader.ReadAll(catalog).TryGetValue("late.jpg", out var r) && r.Status == 2, TimeSpan.FromSeconds(30), () => watch.Stdout);
        watch.Signal(15);
        Assert.Equal(143, watch.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    public void Dispose() => _dir.Dispose();
}
