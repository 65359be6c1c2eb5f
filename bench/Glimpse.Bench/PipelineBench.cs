using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Bench;

/// <summary>
/// Issue 3 item 10 and issue 15 item 1, in one run on one model: every candidate inference layout
/// measured model-only (the calibration `glimpse index` runs, with a longer trial), decode CPU per
/// image with and without shrink-on-load, end-to-end `index` throughput with the best layout (or
/// the one given) and the pipeline's efficiency against the CPU-bound ideal of the most efficient
/// model-only setting measured.
/// </summary>
internal static class PipelineBench
{
    public static void Run(string model, string imagesDir, int batch, int workers, int threads, int encoders, double trialSeconds)
    {
        int cores = Environment.ProcessorCount;
        string[] files = Directory.GetFiles(imagesDir).Order().ToArray();
        var folder = ModelFolder.Open(model);
        var calibration = LayoutCalibration.Calibrate(folder, remeasure: true, perTrial: TimeSpan.FromSeconds(trialSeconds), cacheDir: Path.Combine(Path.GetTempPath(), "glimpse-bench-layouts"));
        Console.WriteLine($"## model-only layouts of {model} ({calibration.Machine}), {trialSeconds} s each");
        foreach (var t in calibration.Trials.OrderByDescending(t => t.ImagesPerSecond))
            Console.WriteLine($"  {t.Layout,-58} {t.ImagesPerSecond,7:0.0} images/s {t.CpuMsPerImage,7:0.0} CPU-ms/image{(t.Layout == calibration.Best ? "  <- best" : "")}");
        var mostEfficient = calibration.Trials.MinBy(t => t.CpuMsPerImage)!;
        using var encoder = threads > 0 || encoders > 0 ? new ClipImageEncoder(folder, threads, encoders) : new ClipImageEncoder(folder, calibration.Best);
        encoders = encoder.ConcurrentBatches;
        batch = encoder.Layout.BatchFor(batch);
        Console.WriteLine($"## pipeline: {files.Length} JPEGs of {imagesDir}, {cores} cores, batch {batch}, {workers} decoders, {encoder.Layout}");

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

        // End to end through the real pipeline into a fresh catalog, after one small run that
        // compiles the pipeline's code (a days-long run pays that once; a 15 s one would count it).
        string catalogDir = Path.Combine(Path.GetTempPath(), "glimpse-bench-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string warmDir = Path.Combine(catalogDir, "warm-up");
            Directory.CreateDirectory(warmDir);
            foreach (string f in files.Take(2 * batch))
                File.Copy(f, Path.Combine(warmDir, Path.GetFileName(f)));
            using (var warmCatalog = new SqliteCatalog(Path.Combine(catalogDir, "warm.db")))
                new IndexingPipeline(warmCatalog, encoder, new IndexingOptions { BatchSize = batch, DecodeWorkers = workers, EncodeWorkers = encoders })
                    .RunAsync(warmDir, null, CancellationToken.None).GetAwaiter().GetResult();

            using var catalog = new SqliteCatalog(Path.Combine(catalogDir, "catalog.db"));
            var pipeline = new IndexingPipeline(catalog, encoder, new IndexingOptions { BatchSize = batch, DecodeWorkers = workers, EncodeWorkers = encoders });
            IndexRunSummary summary = null!;
            var e2e = Measure.Of(() => summary = pipeline.RunAsync(imagesDir, null, CancellationToken.None).GetAwaiter().GetResult());
            double rate = summary.Done / e2e.WallSeconds;
            double bestCpu = Math.Min(modelCpu, mostEfficient.CpuMsPerImage / 1000);
            double ideal = cores / (decodeCpu + bestCpu);
            Console.WriteLine($"end to end (glimpse index)        : {rate,8:0.0} images/s ({summary.Done} images in {e2e.WallSeconds:0.0} s, {e2e.CpuSeconds / summary.Done * 1000:0.0} CPU-ms/image)");
            Console.WriteLine($"CPU-bound ideal                   : {ideal,8:0.0} images/s = {cores} cores / ({decodeCpu * 1000:0.0} decode + {bestCpu * 1000:0.0} model) CPU-ms, " +
                $"the model's CPU from the most efficient setting measured ({(bestCpu == modelCpu ? encoder.Layout : mostEfficient.Layout)})");
            Console.WriteLine($"pipeline efficiency               : {rate / ideal,8:0.00}");
        }
        finally
        {
            Directory.Delete(catalogDir, recursive: true);
        }
    }
}
