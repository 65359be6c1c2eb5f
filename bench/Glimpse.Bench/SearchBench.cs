using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Bench;

/// <summary>
/// Issue 5 item 6: exact query latency at 100k and 1M 512-d vectors; ANN build time, size, query
/// latency and recall@10 against exact on clustered vectors; and the wall time of a fresh
/// `glimpse search` process (model load included) with the tiny and the full-size model.
/// </summary>
internal static class SearchBench
{
    const int Dim = 512;

    public static void Run(string repo, string shared, string cache, int[] exactSizes, int annSize, string? fullModel)
    {
        Console.WriteLine($"## search, {Dim}-d float32, top 10, {Environment.ProcessorCount} cores");
        foreach (int n in exactSizes)
        {
            var set = VectorSet.FromVectors(Random(n, 1, clusters: 0), Dim, Enumerable.Range(0, n).Select(i => i.ToString()).ToArray());
            float[][] queries = Enumerable.Range(0, 20).Select(i => Random(1, 100 + i, 0)).ToArray();
            ExactSearch.Search(set, queries[0], 10);
            var times = queries.Select(q => Time(() => ExactSearch.Search(set, q, 10))).Order().ToList();
            Console.WriteLine($"exact, N = {n,9:N0}: p50 {times[times.Count / 2]:0.0} ms, max {times[^1]:0.0} ms ({n * (long)Dim * 4 / 1e9:0.00} GB scanned per query)");
        }

        // ANN on clustered vectors, through a real catalog and the index file beside it. Kept in
        // the cache: a million-vector build takes minutes (390 s on 2 cores here), and a later run
        // (another ef, say) reuses it.
        string dir = Path.Combine(cache, $"ann-bench-{annSize}");
        Directory.CreateDirectory(dir);
        float[] clustered = Random(annSize, 2, clusters: 1000);
        using (var catalog = new SqliteCatalog(Path.Combine(dir, "c.db")))
        {
            catalog.BindModel(new ModelIdentity("bench", Dim, new string('0', 64), "bench"));
            // Committed in batches of 32, as `glimpse index` commits them.
            for (long start = catalog.CountDone(); start < annSize; start += 32)
                catalog.Adopt(Enumerable.Range((int)start, (int)Math.Min(32, annSize - start))
                    .Select(i => (new ScannedFile($"p{i:D7}.jpg", 1, 1), clustered.AsSpan(i * Dim, Dim).ToArray())).ToList());
            var build = Stopwatch.StartNew();
            var built = AnnIndex.Refresh(catalog);
            build.Stop();
            long size = new FileInfo(AnnIndex.PathFor(catalog)).Length;
            Console.WriteLine(built is null
                ? $"ANN (USearch HNSW, M=16, efC=128), N = {annSize:N0} clustered: index reused from {dir}, file {size / 1e6:0} MB"
                : $"ANN (USearch HNSW, M=16, efC=128), N = {annSize:N0} clustered: build {build.Elapsed.TotalSeconds:0.0} s, file {size / 1e6:0} MB");

            var set = VectorSet.Load(catalog);
            float[][] queries = Enumerable.Range(0, 100).Select(i => Random(1, 1000 + i, clusters: 1000, seedCentres: 2)).ToArray();
            var truth = queries.Select(q => ExactSearch.Search(set, q, 10).Select(h => h.Path).ToHashSet()).ToArray();

            // A fresh process opens the index (memory-mapped) for its one query.
            AnnIndex.Search(catalog, queries[0], 10);
            var withOpen = queries.Take(20).Select(q => Time(() => AnnIndex.Search(catalog, q, 10))).Order().ToList();
            Console.WriteLine($"ANN query incl. opening the index (memory-mapped) and catalog lookups: p50 {withOpen[withOpen.Count / 2]:0.0} ms, max {withOpen[^1]:0.0} ms");

            // The index kept open, as a long-running process (glimpse serve) keeps it, at several ef.
            foreach (ulong ef in new ulong[] { 64, 128, AnnIndex.ExpansionSearch, 512 }.Distinct().Order())
            {
                using var view = AnnIndex.View.Open(catalog, ef);
                view.Search(queries[0], 10);
                var times = new List<double>();
                double recall = 0;
                for (int i = 0; i < queries.Length; i++)
                {
                    IReadOnlyList<SearchHit> hits = null!;
                    times.Add(Time(() => hits = view.Search(queries[i], 10)));
                    recall += hits.Count(h => truth[i].Contains(h.Path)) / 10.0;
                }
                times.Sort();
                Console.WriteLine($"ANN query, index kept open, ef {ef}{(ef == AnnIndex.ExpansionSearch ? " (Glimpse's)" : "")}: p50 {times[times.Count / 2]:0.00} ms, " +
                                  $"p99 {times[(int)(times.Count * 0.99)]:0.00} ms, recall@10 {recall / queries.Length:0.000} (catalog lookups and the exact pass over fresh rows included)");
            }
        }

        // A fresh `glimpse search` process per query: start, model load, tokenise, encode, search.
        foreach (var (name, model) in new[] { ("tiny", Path.Combine(shared, "models", "tiny-immich")), ("ViT-B/32-shaped", fullModel) })
        {
            if (model is null || !Directory.Exists(model))
                continue;
            string lib = Path.Combine(Path.GetTempPath(), "glimpse-freshbench-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(lib);
            try
            {
                using (var encoder = new ClipImageEncoder(ModelFolder.Open(model), 1))
                using (var catalog = new SqliteCatalog(Path.Combine(lib, ".glimpse", "catalog.db")))
                {
                    catalog.BindModel(encoder.Identity);
                    float[] data = Random(10_000, 3, clusters: 0);
                    catalog.Adopt(Enumerable.Range(0, 10_000).Select(i => (new ScannedFile($"p{i:D5}.jpg", 1, 1), data.AsSpan(i * Dim, Dim).ToArray())).ToList());
                }
                string glimpse = Path.Combine(repo, "glimpse");
                Cli(glimpse, lib, "warm up the build");
                var walls = Enumerable.Range(0, 3).Select(i => Time(() => Cli(glimpse, lib, $"a dog on the beach {i}"))).Order().ToList();
                Console.WriteLine($"fresh `glimpse search` process, {name} model, 10k vectors: median {walls[1]:0} ms wall (of 3)");
            }
            finally
            {
                Directory.Delete(lib, recursive: true);
            }
        }
    }

    /// <summary>One whole `glimpse search LIB QUERY --limit 10 [extra]` process; throws when it fails.</summary>
    internal static void Cli(string glimpse, string lib, string query, params string[] extra)
    {
        var psi = new ProcessStartInfo(glimpse) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "search", lib, query, "--limit", "10" }.Concat(extra))
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"glimpse search failed: {err}");
    }

    internal static double Time(Action action)
    {
        var sw = Stopwatch.StartNew();
        action();
        return sw.Elapsed.TotalMilliseconds;
    }

    /// <summary>Unit vectors: uniform (clusters = 0) or around random centres, as CLIP embeddings of real photos are.</summary>
    internal static float[] Random(int count, int seed, int clusters, int? seedCentres = null)
    {
        var random = new Random(seed);
        var centreRandom = new Random(seedCentres ?? seed);
        float[][] centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)(centreRandom.NextDouble() * 2 - 1)).ToArray()).ToArray();
        var data = new float[(long)count * Dim];
        for (int i = 0; i < count; i++)
        {
            Span<float> row = data.AsSpan(i * Dim, Dim);
            float[]? centre = clusters > 0 ? centres[random.Next(clusters)] : null;
            for (int k = 0; k < Dim; k++)
                row[k] = (centre?[k] ?? 0) + (float)(random.NextDouble() * 2 - 1) * (centre is null ? 1f : 0.5f);
            ClipImageEncoder.NormalizeInPlace(row);
        }
        return data;
    }
}
