using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 3 item 10, in one run on one model and thread setting: model-only throughput, decode
/// CPU per image with and without shrink-on-load, end-to-end `index` throughput and the
/// pipeline's efficiency against the CPU-bound ideal.
/// </summary>
internal static class PipelineBench
{
    public static void Run(string model, string imagesDir, int batch, int workers, int threads, int encoders)
    {
        int cores = Environment.ProcessorCount;
        string[] files = Directory.GetFiles(imagesDir).Order().ToArray();
        using var encoder = new ClipImageEncoder(ModelFolder.Open(model), threads, encoders);
        encoders = encoder.ConcurrentBatches;
        Console.WriteLine($"## pipeline: {files.Length} JPEGs of {imagesDir}, model {model}, {cores} cores, batch {batch}, {workers} decoders, {encoder.Layout}");

        var pre = new ClipPreprocessor(encoder.Folder.Preprocess);
        var shrinkOff = new ClipPreprocessor(encoder.Folder.Preprocess, DecodeOptions.Default with { ShrinkOnLoad = false });

        // Decode + preprocess, one thread, CPU seconds per image.
        var tensor = new float[pre.TensorLength];
        byte[][] encoded = files.Select(File.ReadAllBytes).ToArray();
        pre.Preprocess(encoded[0], tensor); // warm-up
        var shrink = Measure.Of(() => { foreach (var e in encoded) pre.Preprocess(e, tensor); });
        var full = Measure.Of(() => { foreach (var e in encoded.Take(Math.Min(8, encoded.Length))) shrinkOff.Preprocess(e, tensor); });
        double decodeCpu = shrink.CpuSeconds / encoded.Length;
        double fullCpu = full.CpuSeconds / Math.Min(8, encoded.Length);
        Console.WriteLine($"decode+preprocess, shrink-on-load : {decodeCpu * 1000,8:0.0} CPU-ms/image");
        Console.WriteLine($"decode+preprocess, full decode    : {fullCpu * 1000,8:0.0} CPU-ms/image  (shrink = {decodeCpu / fullCpu:0.00} of full)");

        // Model only: the same batch over and over, as many calls at once as the pipeline makes.
        var batchBuffer = new float[batch * pre.TensorLength];
        for (int i = 0; i < batch; i++)
            tensor.CopyTo(batchBuffer.AsSpan(i * pre.TensorLength));
        encoder.Encode(batchBuffer, batch); // warm-up
        int rounds = Math.Max(2, 256 / batch);
        var modelRun = Measure.Of(() => Parallel.For(0, encoders, new ParallelOptions { MaxDegreeOfParallelism = encoders },
            _ => { for (int r = 0; r < rounds; r++) encoder.Encode(batchBuffer, batch); }));
        int modelImages = rounds * batch * encoders;
        double modelCpu = modelRun.CpuSeconds / modelImages;
        Console.WriteLine($"model only                        : {modelImages / modelRun.WallSeconds,8:0.0} images/s, {modelCpu * 1000:0.0} CPU-ms/image");

        // End to end through the real pipeline into a fresh catalog.
        string catalogDir = Path.Combine(Path.GetTempPath(), "glimpse-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            using var catalog = new SqliteCatalog(Path.Combine(catalogDir, "catalog.db"));
            var pipeline = new IndexingPipeline(catalog, encoder, new IndexingOptions { BatchSize = batch, DecodeWorkers = workers, EncodeWorkers = encoders });
            IndexRunSummary summary = null!;
            var e2e = Measure.Of(() => summary = pipeline.RunAsync(imagesDir, null, CancellationToken.None).GetAwaiter().GetResult());
            double rate = summary.Done / e2e.WallSeconds;
            double ideal = cores / (decodeCpu + modelCpu);
            Console.WriteLine($"end to end (glimpse index)        : {rate,8:0.0} images/s ({summary.Done} images in {e2e.WallSeconds:0.0} s, {e2e.CpuSeconds / summary.Done * 1000:0.0} CPU-ms/image)");
            Console.WriteLine($"CPU-bound ideal                   : {ideal,8:0.0} images/s = {cores} cores / ({decodeCpu * 1000:0.0} + {modelCpu * 1000:0.0}) CPU-ms");
            Console.WriteLine($"pipeline efficiency               : {rate / ideal,8:0.00}");
        }
        finally
        {
            Directory.Delete(catalogDir, recursive: true);
        }
    }
}
