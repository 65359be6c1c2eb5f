using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 12 item 1, in one run: the full-size ViT-B/32-shaped model exported with a dynamic batch
/// axis and as Immich's exporter writes it today (a static batch of 1), each indexed end to end
/// with Glimpse's default layout for it (one batched call over every core; one single-threaded
/// call per core). Runs alternate (dynamic, static, dynamic, static, ...) so drift on a shared
/// machine hits both; the ratio static ÷ dynamic is the result (target ≥ 0.9).
/// </summary>
internal static class BatchAxisBench
{
    public static void Run(string dynamicModel, string staticModel, string imagesDir, int rounds)
    {
        string[] files = Directory.GetFiles(imagesDir);
        using var dynamicEncoder = new ClipImageEncoder(ModelFolder.Open(dynamicModel));
        using var staticEncoder = new ClipImageEncoder(ModelFolder.Open(staticModel));
        Console.WriteLine($"## batch axis: {files.Length} camera JPEGs, {Environment.ProcessorCount} cores, batch 32, {Environment.ProcessorCount} decoders");
        Console.WriteLine($"dynamic: {dynamicModel} (batch {dynamicEncoder.FixedBatch?.ToString() ?? "dynamic"}), layout {dynamicEncoder.Layout}");
        Console.WriteLine($"static : {staticModel} (batch {staticEncoder.FixedBatch?.ToString() ?? "dynamic"}), layout {staticEncoder.Layout}");

        var pre = new ClipPreprocessor(dynamicEncoder.Folder.Preprocess);
        var tensor = new float[32 * pre.TensorLength];
        for (int i = 0; i < 32; i++)
            pre.Preprocess(File.ReadAllBytes(files[i % files.Length]), tensor.AsSpan(i * pre.TensorLength, pre.TensorLength));
        double dynamicModelOnly = ModelOnly(dynamicEncoder, tensor), staticModelOnly = ModelOnly(staticEncoder, tensor);
        Console.WriteLine($"model only: dynamic {dynamicModelOnly:0.0} images/s, static {staticModelOnly:0.0} images/s, ratio {staticModelOnly / dynamicModelOnly:0.00}");

        var ratios = new List<double>();
        Console.WriteLine("| round | dynamic images/s | static images/s | static ÷ dynamic |");
        Console.WriteLine("|---|---|---|---|");
        for (int round = 1; round <= rounds; round++)
        {
            double d = EndToEnd(dynamicEncoder, imagesDir), s = EndToEnd(staticEncoder, imagesDir);
            ratios.Add(s / d);
            Console.WriteLine($"| {round} | {d:0.0} | {s:0.0} | {s / d:0.00} |");
        }
        Console.WriteLine($"end to end, static ÷ dynamic: mean {ratios.Average():0.00}, min {ratios.Min():0.00} (target 0.90)");
    }

    /// <summary>Images/s of the model alone, with as many batches at once as the pipeline runs for it.</summary>
    static double ModelOnly(ClipImageEncoder encoder, float[] batch)
    {
        encoder.Encode(batch, 32); // warm-up
        const int rounds = 4;
        int calls = encoder.ConcurrentBatches;
        var run = Measure.Of(() => Parallel.For(0, calls, new ParallelOptions { MaxDegreeOfParallelism = calls },
            _ => { for (int r = 0; r < rounds; r++) encoder.Encode(batch, 32); }));
        return rounds * 32 * calls / run.WallSeconds;
    }

    static double EndToEnd(ClipImageEncoder encoder, string imagesDir)
    {
        string catalogDir = Path.Combine(Path.GetTempPath(), "glimpse-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var catalog = new SqliteCatalog(Path.Combine(catalogDir, "catalog.db"));
            var pipeline = new IndexingPipeline(catalog, encoder, new IndexingOptions());
            IndexRunSummary summary = null!;
            var run = Measure.Of(() => summary = pipeline.RunAsync(imagesDir, null, CancellationToken.None).GetAwaiter().GetResult());
            return summary.Done / run.WallSeconds;
        }
        finally
        {
            Directory.Delete(catalogDir, recursive: true);
        }
    }
}
