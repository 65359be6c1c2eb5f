using Glimpse.Bench;

// Benchmarks, not tests: timings go to stdout for the README. Usage:
//   dotnet run -c Release --project bench/Glimpse.Bench -- [pipeline|commit|all] [--model DIR] [--images N] [--trial-seconds 4] [--commit-sizes 1000,1000000]
//   dotnet run -c Release --project bench/Glimpse.Bench -- batch-axis [--images 160] [--rounds 3]   (dynamic vs static batch-1 export)
//   dotnet run -c Release --project bench/Glimpse.Bench -- formats [--repeats 5]     (CPU per image by format)
//   dotnet run -c Release --project bench/Glimpse.Bench -- watch [--count 100000] [--idle-minutes 10]   (glimpse watch: rescan, idle, latency)
//   dotnet run -c Release --project bench/Glimpse.Bench -- decode [--images 16] [--repeats 3]   (JPEG decode paths)
//   dotnet run -c Release --project bench/Glimpse.Bench -- memory --count N      (one N per process)
//   dotnet run -c Release --project bench/Glimpse.Bench -- rescan --count 100000
//   dotnet run -c Release --project bench/Glimpse.Bench -- search [--exact-sizes 100000,1000000] [--ann-size 100000]
//   dotnet run -c Release --project bench/Glimpse.Bench -- fresh-search [--sizes 100000,1000000] [--ann-sizes 100000]
//   dotnet run -c Release --project bench/Glimpse.Bench -- ann-build [--count 100000]
//   dotnet run -c Release --project bench/Glimpse.Bench -- serve [--vectors 100000] [--clients 8] [--seconds 20] [--ann]
//   dotnet run -c Release --project bench/Glimpse.Bench -- claims [--workers-list 1,4,8] [--rows 20000] [--model-rate 35] [--postgres URL]
// Full-size models and image folders are made on demand into the cache (never committed).
string mode = args.FirstOrDefault(a => !a.StartsWith("--")) ?? "all";
string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;

string repo = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../.."));
string shared = Environment.GetEnvironmentVariable("GLIMPSE_SHARED") ?? Path.GetFullPath(Path.Combine(repo, "..", "shared"));
string cache = Environment.GetEnvironmentVariable("GLIMPSE_BENCH_CACHE")
               ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "glimpse-bench");
Directory.CreateDirectory(cache);

if (mode is "pipeline" or "all")
{
    string model = Arg("--model", Path.Combine(cache, "vit-b-32"));
    if (!Directory.Exists(model))
    {
        Console.Error.WriteLine($"no model at {model}: make the full-size one with\n  /usr/bin/python3 {shared}/tools/make_clip_shaped_onnx.py {model} --arch vit-b-32 --layout immich --tokenizer {shared}/models/tiny-immich/textual/tokenizer.json\n(needs apt-get install -y python3-torch python3-onnx), or pass --model DIR.");
        return 2;
    }
    string images = BenchImages.Folder(cache, Path.Combine(shared, "fixtures", "preprocess"), int.Parse(Arg("--images", "96")));
    PipelineBench.Run(model, images, int.Parse(Arg("--batch", "32")), int.Parse(Arg("--workers", Glimpse.Indexing.IndexingOptions.DefaultDecodeWorkers.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        int.Parse(Arg("--threads", "0")), int.Parse(Arg("--encoders", "0")), double.Parse(Arg("--trial-seconds", "4"), System.Globalization.CultureInfo.InvariantCulture));
}
if (mode is "batch-axis")
{
    string dynamicModel = Arg("--model", Path.Combine(cache, "vit-b-32"));
    string staticModel = Arg("--static-model", Path.Combine(cache, "vit-b-32-static"));
    foreach (var (dir, style) in new[] { (dynamicModel, "dynamic"), (staticModel, "current") })
        if (!Directory.Exists(dir))
        {
            Console.Error.WriteLine($"no model at {dir}: make it with\n  /usr/bin/python3 {shared}/tools/make_clip_shaped_onnx.py {dir} --arch vit-b-32 --layout immich --style {style} --tokenizer {shared}/models/tiny-immich/textual/tokenizer.json\n(needs apt-get install -y python3-torch python3-onnx).");
            return 2;
        }
    string images = BenchImages.Folder(cache, Path.Combine(shared, "fixtures", "preprocess"), int.Parse(Arg("--images", "160")));
    BatchAxisBench.Run(dynamicModel, staticModel, images, int.Parse(Arg("--rounds", "3")));
}
if (mode is "watch")
    WatchBench.Run(repo, shared, cache, int.Parse(Arg("--count", "100000")), double.Parse(Arg("--idle-minutes", "10"), System.Globalization.CultureInfo.InvariantCulture));
if (mode is "decode")
    DecodeBench.Run(BenchImages.Folder(cache, Path.Combine(shared, "fixtures", "preprocess"), 160), int.Parse(Arg("--images", "16")), int.Parse(Arg("--repeats", "3")));
if (mode is "formats")
    FormatsBench.Run(cache, BenchImages.Folder(cache, Path.Combine(shared, "fixtures", "preprocess"), 160), int.Parse(Arg("--repeats", "5")));
if (mode is "memory")
{
    // One N per process: dotnet run ... -- memory --count 1000, then --count 20000.
    MemoryBench.Run(Arg("--model", Path.Combine(shared, "models", "tiny-immich")), cache, int.Parse(Arg("--count", "1000")));
}
if (mode is "search")
{
    int[] exactSizes = Arg("--exact-sizes", "100000,1000000").Split(',').Select(int.Parse).ToArray();
    SearchBench.Run(repo, shared, cache, exactSizes, int.Parse(Arg("--ann-size", "100000")), Path.Combine(cache, "vit-b-32"));
}
if (mode is "fresh-search")
{
    int[] Sizes(string name, string fallback) => Arg(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
    FreshSearchBench.Run(repo, shared, cache, Sizes("--sizes", "100000,1000000"), Sizes("--ann-sizes", "100000"));
}
if (mode is "ann-build")
    AnnBuildBench.Run(cache, int.Parse(Arg("--count", "100000")));
if (mode is "serve")
    ServeLoadBench.Run(repo, shared, int.Parse(Arg("--vectors", "100000")), int.Parse(Arg("--clients", "8")), TimeSpan.FromSeconds(int.Parse(Arg("--seconds", "20"))), args.Contains("--ann"));
if (mode is "rescan")
    RescanBench.Run(Arg("--model", Path.Combine(shared, "models", "tiny-immich")), cache, int.Parse(Arg("--count", "100000")));
if (mode is "claims")
{
    // Without --postgres, a throwaway server is started with tests/postgres (as ./test does).
    ClaimBench.Run(repo, cache, Arg("--workers-list", "1,4,8").Split(',').Select(int.Parse).ToArray(), int.Parse(Arg("--rows", "20000")),
        double.Parse(Arg("--model-rate", "35"), System.Globalization.CultureInfo.InvariantCulture), args.Contains("--postgres") ? Arg("--postgres", "") : null);
}
if (mode is "commit" or "all")
{
    long[] sizes = Arg("--commit-sizes", "1000,1000000").Split(',').Select(long.Parse).ToArray();
    CommitBench.Run(cache, sizes);
}
return 0;
