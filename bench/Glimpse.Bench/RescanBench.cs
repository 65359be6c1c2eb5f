using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 4 item 1: a rescan of an unchanged tree of N indexed files, against a bare directory
/// walk with stat calls of the same tree: the rescan should cost little more than the walk.
/// </summary>
internal static class RescanBench
{
    public static void Run(string model, string cache, int count)
    {
        string root = Tree(cache, count);
        string catalogPath = Path.Combine(cache, $"rescan-{count}.db");
        foreach (string f in new[] { catalogPath, catalogPath + "-wal", catalogPath + "-shm" })
            File.Delete(f);
        using var encoder = new ClipImageEncoder(ModelFolder.Open(model), 1);
        using (var catalog = new SqliteCatalog(catalogPath))
        {
            catalog.BindModel(encoder.Identity);
            var files = new FileScanner(root, null, _ => { }).Scan(CancellationToken.None).ToList();
            var vector = new float[encoder.Dimension];
            vector[0] = 1;
            foreach (var chunk in files.Chunk(10_000))
                catalog.Adopt(chunk.Select(f => (f, vector)).ToList());
        }

        // Warm the OS's directory cache once, then time each twice and keep the faster.
        new FileScanner(root, null, _ => { }).Scan(CancellationToken.None).Count();
        double walk = double.MaxValue, rescan = double.MaxValue;
        for (int round = 0; round < 2; round++)
        {
            var sw = Stopwatch.StartNew();
            int seen = new FileScanner(root, null, _ => { }).Scan(CancellationToken.None).Count();
            walk = Math.Min(walk, sw.Elapsed.TotalSeconds);

            sw.Restart();
            using var catalog = new SqliteCatalog(catalogPath);
            var summary = new IndexingPipeline(catalog, encoder, new IndexingOptions()).RunAsync(root, null, CancellationToken.None).GetAwaiter().GetResult();
            rescan = Math.Min(rescan, sw.Elapsed.TotalSeconds);
            if (summary.Done + summary.Failed + summary.Missing != 0 || seen != count)
                throw new InvalidOperationException($"the rescan did work: {summary}");
        }
        Console.WriteLine($"## rescan of an unchanged tree of {count:N0} indexed files");
        Console.WriteLine($"directory walk + stat       : {walk:0.00} s");
        Console.WriteLine($"glimpse index (no changes)  : {rescan:0.00} s ({rescan / walk:0.0}x the walk; nothing decoded, nothing written)");
    }

    /// <summary>N one-byte files named .jpg in folders of 1000 (made once): the walk does not read them.</summary>
    internal static string Tree(string cache, int count)
    {
        string dir = Path.Combine(cache, $"tree-{count}");
        if (Directory.Exists(dir))
            return dir;
        for (int i = 0; i < count; i++)
        {
            string sub = Path.Combine(dir, $"d{i / 1000:D4}");
            if (i % 1000 == 0)
                Directory.CreateDirectory(sub);
            File.WriteAllBytes(Path.Combine(sub, $"p{i:D7}.jpg"), [0]);
        }
        return dir;
    }
}
