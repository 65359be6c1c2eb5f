using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Bench;

/// <summary>
/// ANN build time with one thread and with every core, in one run over one catalog of clustered
/// 512-d vectors (kept in the cache), so the ratio is not spoiled by a machine that got busier.
/// </summary>
internal static class AnnBuildBench
{
    const int Dim = 512;

    public static void Run(string cache, int count)
    {
        string dir = Path.Combine(cache, $"ann-build-{count}");
        Directory.CreateDirectory(dir);
        using var catalog = new SqliteCatalog(Path.Combine(dir, "c.db"));
        catalog.BindModel(new ModelIdentity("bench", Dim, new string('0', 64), "bench"));
        if (catalog.CountDone() < count)
        {
            float[] clustered = SearchBench.Random(count, 2, clusters: 1000);
            for (long start = catalog.CountDone(); start < count; start += 1000)
                catalog.Adopt(Enumerable.Range((int)start, (int)Math.Min(1000, count - start))
                    .Select(i => (new ScannedFile($"p{i:D7}.jpg", 1, 1), clustered.AsSpan(i * Dim, Dim).ToArray())).ToList());
        }

        Console.WriteLine($"## ANN build, {count:N0} clustered {Dim}-d vectors, USearch HNSW M=16 efC=128, {Environment.ProcessorCount} cores");
        double? single = null;
        foreach (int threads in new[] { 1, Environment.ProcessorCount }.Distinct())
        {
            File.Delete(AnnIndex.PathFor(catalog));
            var clock = Stopwatch.StartNew();
            AnnIndex.Update(catalog, 16_384, threads);
            double seconds = clock.Elapsed.TotalSeconds;
            single ??= seconds;
            Console.WriteLine($"{threads} thread{(threads == 1 ? "" : "s")}: {seconds:0.0} s ({count / seconds:0} vectors/s), {single / seconds:0.00}x one thread");
        }
    }
}
