using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 3 item 10: peak memory of a whole `index` run against the number of images N. Run
/// once per N, each in a fresh process, so the peak (VmHWM) belongs to that N alone.
/// </summary>
internal static class MemoryBench
{
    public static void Run(string model, string cache, int count)
    {
        string dir = SmallImages(cache, count);
        using var encoder = new ClipImageEncoder(ModelFolder.Open(model));
        string catalogDir = Path.Combine(Path.GetTempPath(), "glimpse-mem-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var catalog = new SqliteCatalog(Path.Combine(catalogDir, "catalog.db"));
            long before = PeakBytes();
            var clock = Stopwatch.StartNew();
            var summary = new IndexingPipeline(catalog, encoder, new IndexingOptions())
                .RunAsync(dir, null, CancellationToken.None).GetAwaiter().GetResult();
            Console.WriteLine($"N = {count,7:N0}: indexed {summary.Done} in {clock.Elapsed.TotalSeconds:0.0} s; peak RSS {PeakBytes() / 1048576.0:0} MB (after model load {before / 1048576.0:0} MB)");
        }
        finally
        {
            Directory.Delete(catalogDir, recursive: true);
        }
    }

    /// <summary>VmHWM: the process's peak resident set.</summary>
    static long PeakBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith("VmHWM:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }

    /// <summary>N small distinct JPEGs in the cache (made once).</summary>
    static string SmallImages(string cache, int count)
    {
        string dir = Path.Combine(cache, $"small-{count}");
        if (Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Count() == count)
            return dir;
        var random = new Random(count);
        for (int i = 0; i < count; i++)
        {
            string sub = Path.Combine(dir, $"d{i / 1000:D4}");
            Directory.CreateDirectory(sub);
            using var bitmap = new SkiaSharp.SKBitmap(96, 72);
            bitmap.Erase(new SkiaSharp.SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            using var data = bitmap.Encode(SkiaSharp.SKEncodedImageFormat.Jpeg, 80);
            using var file = File.Create(Path.Combine(sub, $"p{i:D7}.jpg"));
            data.SaveTo(file);
        }
        return dir;
    }
}
