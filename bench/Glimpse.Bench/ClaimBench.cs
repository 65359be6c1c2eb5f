using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 8 item 6: claim + commit throughput of the catalog with N workers at once, each with its
/// own connection (as separate processes or machines would have), batches of 32 512-d vectors, for
/// SQLite and PostgreSQL. The catalog must never be the bottleneck: at least 50× the images/s the
/// model manages on this machine.
/// </summary>
internal static class ClaimBench
{
    const int Dim = 512;
    const int Batch = 32;

    public static void Run(string repo, string cacheDir, int[] workerCounts, int rows, double modelImagesPerSecond, string? postgresUrl)
    {
        string? serverDir = null;
        if (postgresUrl is null)
        {
            // A throwaway local server, the same one the tests use.
            // Under /tmp: as root the server runs as the postgres user, who cannot enter /root.
            serverDir = Path.Combine(Path.GetTempPath(), $"glimpse-claim-bench-pg-{Environment.ProcessId}");
            Environment.SetEnvironmentVariable("PGPASSWORD", Environment.GetEnvironmentVariable("PGPASSWORD") ?? "glimpse-test");
            postgresUrl = RunScript(Path.Combine(repo, "tests", "postgres"), "start", serverDir);
        }
        try
        {
            Console.WriteLine($"## claim + commit, batches of {Batch} x {Dim}-d, {rows:N0} rows per run; target >= 50 x {modelImagesPerSecond} images/s = {50 * modelImagesPerSecond:N0} rows/s");
            Console.WriteLine("| back-end | workers | rows/s | claim p50 | claim p99 | commit p50 | commit p99 | x model |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            foreach (int workers in workerCounts)
            {
                string file = Path.Combine(cacheDir, "claim-bench.db");
                foreach (string f in new[] { file, file + "-wal", file + "-shm" })
                    File.Delete(f);
                Report("SQLite", workers, Measure(file, workers, rows), modelImagesPerSecond);
                Report("PostgreSQL", workers, Measure($"{postgresUrl}?root=bench-{Guid.NewGuid():N}", workers, rows), modelImagesPerSecond);
            }
        }
        finally
        {
            if (serverDir is not null)
            {
                RunScript(Path.Combine(repo, "tests", "postgres"), "stop", serverDir);
                Directory.Delete(serverDir, recursive: true);
            }
        }
    }

    sealed record Result(double RowsPerSecond, List<double> ClaimMs, List<double> CommitMs);

    static Result Measure(string address, int workers, int rows)
    {
        var model = new ModelIdentity("bench", Dim, new string('0', 64), "bench");
        using (var setup = CatalogAddress.Parse(address).Open())
        {
            setup.BindModel(model);
            for (int start = 0; start < rows; start += 1000)
                setup.Register(Enumerable.Range(start, Math.Min(1000, rows - start)).Select(i => new ScannedFile($"d{i / 1000:D4}/p{i:D7}.jpg", 1, 1)).ToList());
        }
        var catalogs = Enumerable.Range(0, workers).Select(_ => CatalogAddress.Parse(address).Open()).ToList();
        foreach (var c in catalogs)
            c.BindModel(model);
        var claimMs = new List<double>();
        var commitMs = new List<double>();
        float[] vector = Enumerable.Range(0, Dim).Select(i => 1f / MathF.Sqrt(Dim)).ToArray();
        var wall = Stopwatch.StartNew();
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, w =>
        {
            var myClaims = new List<double>();
            var myCommits = new List<double>();
            string owner = $"bench/{w}";
            while (true)
            {
                var sw = Stopwatch.StartNew();
                var claimed = catalogs[w].Claim(owner, Batch, TimeSpan.FromMinutes(5));
                myClaims.Add(sw.Elapsed.TotalMilliseconds);
                if (claimed.Count == 0)
                    break;
                sw.Restart();
                catalogs[w].Commit(owner, claimed.Select(c => new EmbeddedImage(c.Id, vector)).ToList(), []);
                myCommits.Add(sw.Elapsed.TotalMilliseconds);
            }
            lock (claimMs)
            {
                claimMs.AddRange(myClaims);
                commitMs.AddRange(myCommits);
            }
        });
        double seconds = wall.Elapsed.TotalSeconds;
        long done = catalogs[0].CountDone();
        foreach (var c in catalogs)
            c.Dispose();
        if (done != rows)
            throw new InvalidOperationException($"{done} of {rows} rows done: the benchmark lost work");
        claimMs.Sort();
        commitMs.Sort();
        return new Result(rows / seconds, claimMs, commitMs);
    }

    static void Report(string backend, int workers, Result r, double modelImagesPerSecond)
    {
        static double P(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * q))];
        Console.WriteLine($"| {backend} | {workers} | {r.RowsPerSecond:N0} | {P(r.ClaimMs, 0.5):0.00} ms | {P(r.ClaimMs, 0.99):0.00} ms | " +
                          $"{P(r.CommitMs, 0.5):0.00} ms | {P(r.CommitMs, 0.99):0.00} ms | {r.RowsPerSecond / modelImagesPerSecond:N0}x |");
    }

    static string RunScript(string script, string action, string dir)
    {
        var psi = new ProcessStartInfo(script) { RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(action);
        psi.ArgumentList.Add(dir);
        using var process = Process.Start(psi)!;
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{script} {action} failed (exit {process.ExitCode})");
        return output;
    }
}
