using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 3 item 10: catalog commit time per batch of 32 512-d vectors with 1k and with 1M
/// vectors already stored (the old design rewrote the whole .npy per batch: O(N)).
/// </summary>
internal static class CommitBench
{
    const int Dim = 512;
    const int Batch = 32;
    const int MeasuredBatches = 300;

    public static void Run(string cacheDir, long[] sizes)
    {
        Console.WriteLine($"## catalog commit, batches of {Batch} x {Dim}-d, synchronous=FULL, WAL");
        var results = new List<(long N, double P50, double Mean)>();
        foreach (long n in sizes)
        {
            string path = Path.Combine(cacheDir, $"commit-bench-{n}.db");
            foreach (string f in new[] { path, path + "-wal", path + "-shm" })
                File.Delete(f);
            using var catalog = new SqliteCatalog(path);
            catalog.BindModel(new ModelIdentity("bench", Dim, new string('0', 64), "bench"));
            var fill = Stopwatch.StartNew();
            Fill(catalog, n, 1000);
            Console.WriteLine($"filled N = {n:N0} in {fill.Elapsed.TotalSeconds:0.0} s ({new FileInfo(path).Length / 1e9:0.00} GB)");

            // Measured: register, claim, commit, as the pipeline does, batch by batch.
            Register(catalog, n, Batch * MeasuredBatches);
            var times = new List<double>();
            var vector = Vector(1);
            for (int b = 0; b < MeasuredBatches; b++)
            {
                var claimed = catalog.Claim("bench", Batch, TimeSpan.FromMinutes(5));
                var done = claimed.Select(c => new EmbeddedImage(c.Id, vector)).ToList();
                var sw = Stopwatch.StartNew();
                catalog.Commit("bench", done, []);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            results.Add((n, times[times.Count / 2], times.Average()));
            Console.WriteLine($"N = {n,10:N0}: commit per batch p50 {times[times.Count / 2]:0.000} ms, mean {times.Average():0.000} ms, p99 {times[(int)(times.Count * 0.99)]:0.000} ms");
            catalog.Dispose();
            foreach (string f in new[] { path, path + "-wal", path + "-shm" })
                File.Delete(f);
        }
        if (results.Count >= 2)
            Console.WriteLine($"ratio p50 at N = {results[^1].N:N0} / N = {results[0].N:N0}: {results[^1].P50 / results[0].P50:0.00}");
    }

    static void Fill(SqliteCatalog catalog, long n, int chunk)
    {
        var vector = Vector(0);
        for (long start = 0; start < n; start += chunk)
        {
            int count = (int)Math.Min(chunk, n - start);
            Register(catalog, start, count);
            var claimed = catalog.Claim("fill", count, TimeSpan.FromMinutes(5));
            catalog.Commit("fill", claimed.Select(c => new EmbeddedImage(c.Id, vector)).ToList(), []);
        }
    }

    static void Register(SqliteCatalog catalog, long start, int count) =>
        catalog.Register(Enumerable.Range(0, count).Select(i => new ScannedFile($"d{(start + i) / 1000:D5}/p{start + i:D8}.jpg", 1, 1)).ToList());

    static float[] Vector(int seed)
    {
        var random = new Random(seed);
        var v = new float[Dim];
        for (int i = 0; i < Dim; i++)
            v[i] = (float)random.NextDouble() - 0.5f;
        ClipImageEncoder.NormalizeInPlace(v);
        return v;
    }
}
