using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Bench;

/// <summary>
/// Issue 15 item 4: the wall time of a fresh `glimpse search` process (start, tiny model, query,
/// search, print) over 100k and 1M vectors: exact through the memory-mapped vector file, and ANN.
/// Beside it, what the same process paid before the file: reading every vector from the catalog.
/// </summary>
internal static class FreshSearchBench
{
    const int Dim = 512;

    public static void Run(string repo, string shared, string cache, int[] sizes, int[] annSizes)
    {
        string model = Path.Combine(shared, "models", "tiny-immich");
        string glimpse = Path.Combine(repo, "glimpse");
        Console.WriteLine($"## fresh `glimpse search` processes, tiny model ({Dim}-d), {Environment.ProcessorCount} cores, wall ms");
        foreach (int n in sizes)
        {
            string lib = Path.Combine(cache, $"fresh-search-{n}");
            string db = Path.Combine(lib, ".glimpse", "catalog.db");
            Fill(db, model, n);

            using (var catalog = new SqliteCatalog(db))
            {
                double load = Time(() => VectorSet.Load(catalog));
                Console.WriteLine($"N = {n:N0}: reading every vector from the catalog (what a fresh search paid before): {load:0} ms");
            }
            File.Delete(db + ".vectors");
            double first = Time(() => Cli(glimpse, lib, "first query", ann: false));
            var exact = Enumerable.Range(0, 5).Select(i => Time(() => Cli(glimpse, lib, $"a dog on the beach {i}", ann: false))).Order().ToList();
            Console.WriteLine($"N = {n:N0}, exact: first search (writes the vector file) {first:0}; then median {exact[2]:0}, max {exact[^1]:0} (of 5)");

            using (var catalog = new SqliteCatalog(db))
                Add(catalog, n, 32, seed: Environment.TickCount); // one batch committed since: appended, not rebuilt
            double appended = Time(() => Cli(glimpse, lib, "after a commit", ann: false));
            Console.WriteLine($"N = {n:N0}, exact: after one more committed batch (appended to the file) {appended:0}");
            using (var catalog = new SqliteCatalog(db))
                catalog.Forget("x*"); // the 32 again removed, so the next run starts from the same catalog

            if (!annSizes.Contains(n))
                continue;
            if (File.Exists(db + ".usearch"))
                using (var catalog = new SqliteCatalog(db))
                    AnnIndex.Update(catalog); // an index kept from an earlier run, brought up to date as an index run's end does
            double build = Time(() => Cli(glimpse, lib, "build", ann: true));
            var ann = Enumerable.Range(0, 5).Select(i => Time(() => Cli(glimpse, lib, $"a cat on a sofa {i}", ann: true))).Order().ToList();
            Console.WriteLine($"N = {n:N0}, ANN: first search (builds the index unless kept from an earlier run) {build:0}; then median {ann[2]:0}, max {ann[^1]:0} (of 5)");
        }
    }

    /// <summary>A catalog of <paramref name="n"/> clustered unit vectors under the tiny model's identity, kept in the cache between runs.</summary>
    static void Fill(string db, string model, int n)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(db)!);
        using var catalog = new SqliteCatalog(db);
        catalog.BindModel(ModelFolder.Open(model).ReadIdentity() with { Folder = model });
        long have = catalog.CountDone();
        for (long start = have; start < n; start += 10_000)
            Add(catalog, (int)start, (int)Math.Min(10_000, n - start), seed: (int)start, prefix: "p");
    }

    static void Add(SqliteCatalog catalog, int first, int count, int seed, string prefix = "x")
    {
        float[] data = SearchBench.Random(count, seed, clusters: 50);
        catalog.Adopt(Enumerable.Range(0, count).Select(i => (new ScannedFile($"{prefix}{first + i:D7}.jpg", 1, 1), data.AsSpan(i * Dim, Dim).ToArray())).ToList());
    }

    static void Cli(string glimpse, string lib, string query, bool ann) => SearchBench.Cli(glimpse, lib, query, ann ? "--ann" : "--exact");

    static double Time(Action action) => SearchBench.Time(action);
}
