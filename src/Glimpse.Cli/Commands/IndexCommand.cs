using System.CommandLine;
using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Cli.Terminal;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse index ROOT</c>: embed every image under ROOT into the catalog, resumably.</summary>
internal static class IndexCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var rootPaths = CommonOptions.RootPath();
        var model = CommonOptions.Model();
        var json = CommonOptions.Json();
        var offline = CommonOptions.Offline();
        var batchSize = new Option<int>("--batch-size") { Description = "Images per inference call and per commit. Larger batches use more memory for little speed on a CPU.", DefaultValueFactory = _ => 32 };
        var workers = new Option<int>("--workers") { Description = "Decode threads. Default: one per core and one more.", DefaultValueFactory = _ => IndexingOptions.DefaultDecodeWorkers };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime threads per inference call. Default: measured (see --recalibrate)." };
        var encoders = new Option<int>("--encoders") { Description = "Inference calls at once on the one model. Default: measured (see --recalibrate)." };
        var device = CommonOptions.Device();
        var recalibrate = new Option<bool>("--recalibrate")
        {
            Description = "Measure the inference layout (calls at once x threads x images per run) again. It is measured on a model's first use on a machine and remembered; --threads or --encoders skip it.",
        };
        var lease = new Option<int>("--lease") { Description = "Seconds a claim stays with a process that stops renewing it (a crashed one on another machine). Short leases hand work over sooner but renew more often.", DefaultValueFactory = _ => 120 };
        var retryFailed = new Option<bool>("--retry-failed") { Description = "Try failed images again (otherwise a failure is retried only when its file changes)." };
        var maxMegapixels = new Option<double>("--max-megapixels") { Description = "Refuse images larger than this (decompression-bomb guard).", DefaultValueFactory = _ => DecodeOptions.Default.MaxMegapixels };
        var allowMassDelete = new Option<bool>("--allow-mass-delete") { Description = "Let this scan mark a whole folder of 1000+ images, or the whole library, missing (otherwise refused: an unmounted drive looks the same)." };
        var followLinks = new Option<bool>("--follow-links-outside") { Description = "Also index files that symbolic links lead to outside ROOT (otherwise counted and left out; serve never shows them either way)." };
        var noShrink = new Option<bool>("--no-shrink-on-load") { Description = "Decode JPEGs at full size (slower; for comparison).", Hidden = true };

        var command = new Command("index", "Embed every image under ROOT into the catalog. Safe to stop (Ctrl-C), kill or run twice at once; run it again to continue or to pick up changes.")
        {
            root, catalog, rootPaths, model, batchSize, workers, threads, encoders, device, recalibrate, lease, retryFailed, allowMassDelete, maxMegapixels, followLinks, noShrink, offline, json,
        };
        command.SetAction(async (parse, token) =>
        {
            CatalogAddress address = CliContext.Address(parse.GetValue(root)!, parse.GetValue(catalog));
            string rootPath = CliContext.LibraryRoot(parse.GetValue(root)!, address, parse.GetValue(rootPaths));
            if (!Directory.Exists(rootPath))
            {
                cli.Warn($"library folder {rootPath} does not exist or is not reachable.");
                return ExitCodes.Usage;
            }
            if (parse.GetValue(batchSize) < 1 || parse.GetValue(workers) < 1 || parse.GetValue(threads) < 0 || parse.GetValue(encoders) < 0 || parse.GetValue(lease) < 3)
            {
                cli.Warn("--batch-size and --workers must be at least 1, --threads and --encoders at least 1 when given, and --lease at least 3 seconds.");
                return ExitCodes.Usage;
            }

            var options = new IndexingOptions
            {
                BatchSize = parse.GetValue(batchSize),
                DecodeWorkers = parse.GetValue(workers),
                Lease = TimeSpan.FromSeconds(parse.GetValue(lease)),
                RetryFailed = parse.GetValue(retryFailed),
                AllowMassDelete = parse.GetValue(allowMassDelete),
                FollowLinksOutside = parse.GetValue(followLinks),
                Decode = DecodeOptions.Default with { MaxMegapixels = parse.GetValue(maxMegapixels), ShrinkOnLoad = !parse.GetValue(noShrink) },
            };

            StopSignal stop = cli.Stop;
            string modelPath = await ModelResolver.ResolveAsync(cli, parse.GetValue(model), parse.GetValue(offline), stop.Token);
            var modelFolder = ModelFolder.Open(modelPath); // a wrong folder is the one line, before any other
            ExecutionDevice runOn = CommonOptions.ResolveDevice(cli, parse.GetValue(device));
            using var encoder = OpenEncoder(cli, modelFolder, parse.GetValue(threads), parse.GetValue(encoders), runOn, parse.GetValue(recalibrate), stop.Token);
            using var store = address.Open(cli.Warn, stop.Token);
            options = FitTo(options, encoder);
            var pipeline = new IndexingPipeline(store, encoder, options, cli.Warn);

            var clock = Stopwatch.StartNew();
            IndexRunSummary summary;
            await using (new ProgressDisplay(pipeline.Progress, cli.Err, cli.ErrIsTerminal))
                summary = await pipeline.RunAsync(rootPath, address.SqlitePath is { } file ? Path.GetDirectoryName(file) : null, stop.Token);

            // Keep an ANN index, where there is one, current: only what this run committed is added.
            if (!summary.Stopped && summary.Done > 0 && Glimpse.Search.AnnIndex.IsUsable(store))
                Glimpse.Search.AnnIndex.Update(store);
            Report(cli, summary, store.Location, clock.Elapsed, parse.GetValue(json));
            if (summary.Stopped)
            {
                cli.Warn($"stopped: {summary.Done} embedded this run, {summary.Left} left. Run the same command again to continue.");
                return stop.ExitCode ?? ExitCodes.Interrupted;
            }
            return summary.Failed > 0 ? ExitCodes.SomeFailed : ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The options with a batch that gives every inference call of the encoder's layout a run, and its number of batches at once.</summary>
    internal static IndexingOptions FitTo(IndexingOptions options, ClipImageEncoder encoder) =>
        options with { BatchSize = encoder.Layout.BatchFor(options.BatchSize), EncodeWorkers = encoder.ConcurrentBatches };

    /// <summary>The encoder with the layout the user fixed, else the one measured on this machine (once per model).</summary>
    internal static ClipImageEncoder OpenEncoder(CliContext cli, ModelFolder folder, int threads, int encoders, ExecutionDevice device, bool recalibrate,
        CancellationToken cancellationToken)
    {
        if (threads > 0 || encoders > 0)
            return new ClipImageEncoder(folder, threads, encoders, device);
        var calibration = LayoutCalibration.Calibrate(folder, recalibrate, log: cli.Warn, device: device, cancellationToken: cancellationToken);
        double? rate = calibration.Trials.FirstOrDefault(t => t.Layout == calibration.Best)?.ImagesPerSecond;
        cli.Warn($"inference on {device}: {calibration.Best} ({(calibration.FromCache ? "measured before on this machine" : "measured now")}{(rate is { } r ? $": {r:0.0} images/s model-only" : "")})");
        return new ClipImageEncoder(folder, calibration.Best, device);
    }

    static void Report(CliContext cli, IndexRunSummary s, string catalogPath, TimeSpan elapsed, bool json)
    {
        if (json)
        {
            cli.WriteJson(new { s.Done, s.Reused, s.Failed, s.Left, s.Missing, s.Stopped, Seconds = Math.Round(elapsed.TotalSeconds, 1), Catalog = catalogPath, Skipped = s.Skipped.Kinds });
            return;
        }
        double rate = elapsed.TotalSeconds > 0 ? s.Done / elapsed.TotalSeconds : 0;
        string reused = s.Reused > 0 ? $" ({s.Reused} moved or copied: vector reused)" : "";
        string missing = s.Missing > 0 ? $", {s.Missing} gone (marked missing)" : "";
        cli.Out.WriteLine($"embedded {s.Done} images{reused} ({rate:0.0}/s), {s.Failed} failed{missing}, {s.Left} left, in {ProgressDisplay.FormatDuration(elapsed.TotalSeconds)}; catalog {catalogPath}");
        if (s.Skipped.Total > 0)
            cli.Out.WriteLine($"not images Glimpse reads, left out: {s.Skipped.Describe()}");
        if (s.Failed > 0)
            cli.Out.WriteLine("see 'glimpse failed' for the reasons.");
    }
}
