using System.CommandLine;
using System.Diagnostics;
using Glimpse.Models;
using Glimpse.Models.Quantization;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse models list|pull|remove|quantize|compare</c>: the per-user model cache.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext cli)
    {
        var json = CommonOptions.Json();
        var list = new Command("list", "Show cached models: name, layout, dimension, size on disk, folder.") { json };
        list.SetAction(parse =>
        {
            var cache = new ModelCache();
            var entries = cache.List();
            if (parse.GetValue(json))
                cli.WriteJson(new { cache.Root, Models = entries });
            else
            {
                cli.Out.WriteLine($"cache: {cache.Root}");
                foreach (var e in entries)
                    cli.Out.WriteLine($"{e.Name,-28} {e.Layout,-12} {(e.Dimension is { } d ? d + "-d" : "?"),6} {e.Bytes / 1e6,9:0.0} MB  {e.Path}{(e.Problem is null ? "" : "  (" + e.Problem + ")")}");
            }
            return ExitCodes.Ok;
        });

        var pullName = new Argument<string>("NAME") { Description = "A model of the Immich collection on Hugging Face, e.g. ViT-B-32__openai.", DefaultValueFactory = _ => ModelCache.DefaultModel };
        var offline = new Option<bool>("--offline") { Description = "Forbid network use (also GLIMPSE_OFFLINE=1)." };
        var pull = new Command("pull", "Download a model into the cache (resumes an interrupted download; checks every file's sha256). GLIMPSE_HF_ENDPOINT sets a mirror.") { pullName, offline };
        pull.SetAction(async (parse, token) =>
        {
            string name = parse.GetValue(pullName)!;
            var cache = new ModelCache();
            if (cache.Resolve(name) is { } found && !Directory.Exists(name))
            {
                cli.Out.WriteLine(found);
                return ExitCodes.Ok;
            }
            if (ModelResolver.IsOffline(parse.GetValue(offline)))
            {
                cli.Warn($"model {name} is not cached and offline mode forbids downloading it.");
                return ExitCodes.Error;
            }
            cli.Out.WriteLine(await ModelResolver.PullAsync(cli, cache, name, cli.Stop.Token));
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("NAME") { Description = "The cached model's name." };
        var remove = new Command("remove", "Delete a cached model.") { removeName };
        remove.SetAction(parse =>
        {
            string name = parse.GetValue(removeName)!;
            if (!new ModelCache().Remove(name))
            {
                cli.Warn($"no cached model named {name} (see 'glimpse models list').");
                return ExitCodes.Error;
            }
            cli.Out.WriteLine($"removed {name}");
            return ExitCodes.Ok;
        });

        return new Command("models", "The per-user model cache ($GLIMPSE_MODELS, else ~/.cache/glimpse/models).")
        {
            list, pull, remove, Quantize(cli), Compare(cli), Calibrate(cli),
        };
    }

    static Command Quantize(CliContext cli)
    {
        var source = new Argument<string>("NAME|DIR") { Description = "A cached model's name or a model folder." };
        var name = new Option<string?>("--name") { Description = "The copy's name in the cache (default: the source's name + '-int8')." };
        var weights = new Option<QuantizedWeights>("--weights")
        {
            Description = "How weights are stored: Int8ReducedRange (7-bit values, the default: safe on x86 CPUs without VNNI, whose int8 kernels can overflow 8-bit weights), Int8 (full 8-bit, for CPUs with VNNI or ARM) or UInt8 (asymmetric; ONNX Runtime's slower u8u8 kernels).",
            DefaultValueFactory = _ => QuantizedWeights.Int8ReducedRange,
        };
        var json = CommonOptions.Json();
        var command = new Command("quantize",
            "Write an int8 copy of a model (MatMul/Gemm weights per output column, activations at run time) into the cache under its own name. " +
            "Check what it costs on your images with 'glimpse models compare' before indexing with it.")
        { source, name, weights, json };
        command.SetAction(parse =>
        {
            var cache = new ModelCache();
            string given = parse.GetValue(source)!;
            var folder = ModelFolder.Open(cache.Resolve(given) ?? given);
            string copyName = parse.GetValue(name) ?? folder.Name + "-int8";
            if (!ModelCache.IsValidName(copyName))
            {
                cli.Warn($"--name {copyName} is not a model name (one path segment, no leading dot).");
                return ExitCodes.Usage;
            }
            string destination = cache.PathOf(copyName);
            if (Directory.Exists(destination))
            {
                cli.Warn($"{destination} already exists: remove it ('glimpse models remove {copyName}') or pass --name.");
                return ExitCodes.Error;
            }
            Directory.CreateDirectory(cache.Root);
            var clock = Stopwatch.StartNew();
            cli.Warn($"quantising {folder.Path} into {destination}");
            var result = ModelQuantizer.Quantize(folder, destination, parse.GetValue(weights), cli.Stop.Token);
            if (parse.GetValue(json))
            {
                cli.WriteJson(new { Name = copyName, result.Path, result.Source, Weights = result.Weights.ToString(), result.Visual, result.Text, Seconds = clock.Elapsed.TotalSeconds });
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"{copyName}: {result.Path}");
            cli.Out.WriteLine($"visual: {Describe(result.Visual)}");
            if (result.Text is { } text)
                cli.Out.WriteLine($"text:   {Describe(text)}");
            cli.Warn($"done in {clock.Elapsed.TotalSeconds:0.0} s. Before indexing with it: glimpse models compare {folder.Name} {copyName} YOUR_PHOTOS");
            return ExitCodes.Ok;
        });
        return command;
    }

    static Command Calibrate(CliContext cli)
    {
        var source = new Argument<string>("NAME|DIR") { Description = "A cached model's name or a model folder." };
        var seconds = new Option<double>("--seconds") { Description = "How long each candidate layout runs.", DefaultValueFactory = _ => 1.5 };
        var json = CommonOptions.Json();
        var command = new Command("calibrate",
            "Measure which inference layout (calls at once x threads per call x images per run) encodes this model fastest on this machine, " +
            "and remember it for 'glimpse index' (which measures on a model's first use by itself).")
        { source, seconds, json };
        command.SetAction(parse =>
        {
            string given = parse.GetValue(source)!;
            var folder = ModelFolder.Open(new ModelCache().Resolve(given) ?? given);
            var result = LayoutCalibration.Calibrate(folder, remeasure: true, perTrial: TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(seconds))),
                cancellationToken: cli.Stop.Token);
            if (parse.GetValue(json))
            {
                cli.WriteJson(result);
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"{folder.Name} on {result.Machine}");
            foreach (var t in result.Trials.OrderByDescending(t => t.ImagesPerSecond))
                cli.Out.WriteLine($"{t.Layout,-58} {t.ImagesPerSecond,8:0.0} images/s {t.CpuMsPerImage,7:0.0} CPU-ms/image{(t.Layout == result.Best ? "  <- used" : "")}");
            return ExitCodes.Ok;
        });
        return command;
    }

    static string Describe(QuantizedGraph g) =>
        $"{g.MatMuls} MatMul + {g.Gemms} Gemm quantised ({g.FloatWeightBytes / 1e6:0.0} MB of float weights -> {g.IntWeightBytes / 1e6:0.0} MB), {g.LeftFloat} left in float (no constant weight)";

    static Command Compare(CliContext cli)
    {
        var a = new Argument<string>("A") { Description = "The model you use now (name or folder)." };
        var b = new Argument<string>("B") { Description = "The model you consider (name or folder), e.g. its int8 copy." };
        var root = new Argument<string>("ROOT") { Description = "A folder of your own photos to sample." };
        var sample = new Option<int>("--sample") { Description = "How many images to embed with both models.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Which sample (the same seed gives the same images).", DefaultValueFactory = _ => 1 };
        var json = CommonOptions.Json();
        var command = new Command("compare",
            "Embed a sample of your images with two models and print how close their vectors are (mean and minimum cosine, when they share a space) " +
            "and how much each image's top-10 neighbours overlap.")
        { a, b, root, sample, seed, json };
        command.SetAction(parse =>
        {
            int n = parse.GetValue(sample);
            if (n < 2)
            {
                cli.Warn("--sample must be at least 2 (neighbours need company).");
                return ExitCodes.Usage;
            }
            string dir = parse.GetValue(root)!;
            if (!Directory.Exists(dir))
            {
                cli.Warn($"{dir} is not a folder.");
                return ExitCodes.Usage;
            }
            using var first = new ClipImageEncoder(ModelFolder.Open(ModelResolver.ResolveLocal(parse.GetValue(a)!)));
            using var second = new ClipImageEncoder(ModelFolder.Open(ModelResolver.ResolveLocal(parse.GetValue(b)!)));
            var clock = Stopwatch.StartNew();
            var r = ModelComparison.Run(first, second, dir, n, parse.GetValue(seed), cli.Warn, cli.Stop.Token);
            if (r.Compared == 0)
            {
                cli.Warn($"no image under {dir} could be compared ({r.Found} found{(r.FirstFailure is null ? "" : "; first failure: " + r.FirstFailure)}).");
                return ExitCodes.Error;
            }
            if (r.Failed > 0)
                cli.Warn($"{r.Failed} of {r.Sampled} sampled images could not be read and are left out (first: {r.FirstFailure}).");
            if (parse.GetValue(json))
            {
                cli.WriteJson(new { A = first.Folder.Path, B = second.Folder.Path, Result = r, Seconds = clock.Elapsed.TotalSeconds });
                return ExitCodes.Ok;
            }
            cli.Out.WriteLine($"A: {first.Folder.Name} ({first.Dimension}-d)   B: {second.Folder.Name} ({second.Dimension}-d)");
            cli.Out.WriteLine($"images: {r.Compared} compared of {r.Found} found (sample {r.Sampled}, seed {parse.GetValue(seed)})");
            cli.Out.WriteLine(r.MeanCosine is { } mean
                ? $"cosine A-B per image: mean {mean:0.0000}, min {r.MinCosine:0.0000} ({r.MinCosineImage})"
                : "cosine A-B per image: not comparable (the models' dimensions differ)");
            cli.Out.WriteLine($"top-{r.K} neighbours shared: mean {r.MeanNeighbourOverlap:P1}, worst image {r.MinNeighbourOverlap:P0}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
