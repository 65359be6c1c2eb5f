using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Glimpse.Models;

/// <summary>
/// Chooses a model's inference layout on this machine by measuring it: a few seconds of model-only
/// runs of each candidate (calls at once x threads per call x images per run), once per model,
/// machine and ONNX Runtime version, remembered in <c>~/.cache/glimpse/layouts</c>. What is best
/// differs by CPU (NOTES.md: two single-threaded calls of 8 beat one two-threaded call of 32 by
/// 15–25 % on 2 AVX2 cores) and by model (int8 kernels scale otherwise than float ones), so no
/// fixed rule holds.
/// </summary>
public static class LayoutCalibration
{
    /// <summary>One candidate's measurement.</summary>
    public sealed record Trial(InferenceLayout Layout, double ImagesPerSecond, double CpuMsPerImage);

    /// <summary>The layout to use, what was measured, and whether it came from the cache.</summary>
    public sealed record Result(InferenceLayout Best, IReadOnlyList<Trial> Trials, bool FromCache, string? CachePath, string Machine);

    /// <summary>Enough images for a steady figure from a small model, whose calls take a millisecond.</summary>
    const int MaxTrialImages = 2000;

    /// <summary>Bumped when the candidates or the measurement change, so old choices are measured again.</summary>
    const int Version = 1;

    /// <summary>
    /// The measured best layout of <paramref name="folder"/>'s visual encoder: from the cache when
    /// this model was measured on this machine before (unless <paramref name="remeasure"/>), else
    /// measured now (each candidate for <paramref name="perTrial"/>, 1.5 s by default) and cached.
    /// </summary>
    public static Result Calibrate(ModelFolder folder, bool remeasure = false, TimeSpan? perTrial = null, string? cacheDir = null,
        Action<string>? log = null, ExecutionDevice? device = null, CancellationToken cancellationToken = default)
    {
        int cores = Math.Max(1, Environment.ProcessorCount);
        device ??= ExecutionDevice.Cpu;
        var signature = VisualModelSignature.Read(folder);
        string machine = MachineDescription(cores) + (device.IsCuda ? $"; {device}" : "");
        string? path = CachePath(cacheDir, signature.Identity.VisualSha256, machine);
        if (!remeasure && path is not null && TryRead(path) is { } cached)
            return cached with { FromCache = true, CachePath = path };
        // Two processes starting on one machine measure one after the other, not at once (each
        // would measure the other's load), and the second takes the first's result.
        using FileStream? guard = TryLock(path);
        if (!remeasure && path is not null && TryRead(path) is { } measuredMeanwhile)
            return measuredMeanwhile with { FromCache = true, CachePath = path };

        var candidates = device.IsCuda ? GpuCandidates(signature.FixedBatch) : Candidates(signature.FixedBatch, cores);
        log?.Invoke($"measuring the inference layout of {folder.Name} on this machine ({candidates.Count} candidates, once; cached for later runs)");
        var trials = new List<Trial>();
        var tensorLength = folder.Preprocess.TensorLength;
        foreach (var group in candidates.GroupBy(c => c.ThreadsPerCall))
        {
            // One session per thread count: a session's threads are fixed when it is made.
            using var encoder = new ClipImageEncoder(folder, new InferenceLayout(1, group.Key), device);
            foreach (InferenceLayout candidate in group)
            {
                cancellationToken.ThrowIfCancellationRequested();
                trials.Add(Measure(encoder, candidate, tensorLength, perTrial ?? TimeSpan.FromSeconds(1.5), cancellationToken));
                log?.Invoke($"  {candidate}: {trials[^1].ImagesPerSecond:0.0} images/s, {trials[^1].CpuMsPerImage:0.0} CPU-ms/image");
            }
        }
        InferenceLayout best = trials.MaxBy(t => t.ImagesPerSecond)!.Layout;
        var result = new Result(best, trials, false, path, machine);
        if (path is not null)
            TryWrite(path, result);
        return result;
    }

    /// <summary>
    /// What is tried on <paramref name="cores"/> cores: one call over every core, one single-threaded
    /// call per core, and halves between on larger machines; runs of 1, 8 and 32 images, as far as a
    /// batch of 32 keeps every call busy. A fixed batch axis fixes the run size.
    /// </summary>
    internal static List<InferenceLayout> Candidates(int? fixedBatch, int cores)
    {
        var threadCounts = new SortedSet<int> { 1, cores };
        if (cores >= 4)
            threadCounts.Add(cores / 2);
        var list = new List<InferenceLayout>();
        foreach (int threads in threadCounts)
        {
            int calls = Math.Max(1, cores / threads);
            int[] runs = fixedBatch is { } b ? [b] : threads == 1 ? [1, 8, 32] : [8, 32];
            foreach (int run in runs)
                if (fixedBatch is not null || calls * run <= Math.Max(32, calls))
                    list.Add(new InferenceLayout(calls, threads, run));
        }
        return [.. list.Distinct()];
    }

    /// <summary>
    /// On a GPU the threads only feed it: one CPU thread per call, and runs large enough to fill
    /// the device (a fixed batch axis fixes the run size; then more calls at once fill it instead).
    /// </summary>
    internal static List<InferenceLayout> GpuCandidates(int? fixedBatch) => fixedBatch is { } b
        ? [new(1, 1, b), new(2, 1, b), new(4, 1, b)]
        : [new(1, 1, 32), new(1, 1, 64), new(1, 1, 128), new(2, 1, 64)];

    static Trial Measure(ClipImageEncoder encoder, InferenceLayout layout, int tensorLength, TimeSpan budget, CancellationToken cancellationToken)
    {
        int images = layout.Calls * Math.Max(1, layout.RunSize);
        var input = new float[images * tensorLength];
        var random = new Random(12345);
        for (int i = 0; i < input.Length; i++)
            input[i] = (float)(random.NextDouble() * 4 - 2); // the range of normalised pixels
        encoder.Encode(input, images, layout); // warm-up: first runs allocate and plan

        var process = Process.GetCurrentProcess();
        TimeSpan cpu0 = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        int done = 0;
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            encoder.Encode(input, images, layout);
            done += images;
        }
        while (clock.Elapsed < budget && done < MaxTrialImages);
        process.Refresh();
        double cpuMs = (process.TotalProcessorTime - cpu0).TotalMilliseconds;
        return new Trial(layout, done / clock.Elapsed.TotalSeconds, cpuMs / done);
    }

    /// <summary>The CPU (model and instruction sets), usable cores and ONNX Runtime version: what makes a measurement valid elsewhere.</summary>
    static string MachineDescription(int cores)
    {
        string cpu = "unknown CPU";
        string flags = "";
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal) && cpu == "unknown CPU")
                    cpu = line[(line.IndexOf(':') + 1)..].Trim();
                else if (line.StartsWith("flags", StringComparison.Ordinal) && flags.Length == 0)
                    flags = line[(line.IndexOf(':') + 1)..].Trim();
                if (cpu != "unknown CPU" && flags.Length > 0)
                    break;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: the model name from the runtime is all there is.
        }
        string isa = string.Join(' ', flags.Split(' ').Where(f => f.StartsWith("avx", StringComparison.Ordinal) || f.Contains("vnni", StringComparison.Ordinal) || f == "amx_int8").Order(StringComparer.Ordinal));
        return $"{cpu}; {cores} cores; {isa}; onnxruntime {OnnxRuntimeEnvironment.Get().GetVersionString()}; calibration v{Version}";
    }

    static FileStream? TryLock(string? path)
    {
        if (path is null)
            return null;
        try
        {
            return Search.FileLock.Acquire(path + ".lock");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // measuring unguarded beats not starting
        }
    }

    static string? CachePath(string? cacheDir, string modelSha, string machine)
    {
        string? dir = cacheDir;
        if (dir is null)
        {
            string? cache = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(ModelCache.DefaultRoot()));
            if (string.IsNullOrEmpty(cache))
                return null;
            dir = Path.Combine(cache, "layouts");
        }
        string key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{modelSha}\n{machine}")))[..32];
        return Path.Combine(dir, key + ".json");
    }

    sealed record Stored(string Machine, InferenceLayout Best, List<Trial> Trials, DateTimeOffset MeasuredAt);

    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    static Result? TryRead(string path)
    {
        try
        {
            var stored = JsonSerializer.Deserialize<Stored>(File.ReadAllText(path), Json);
            return stored is { Best: { Calls: > 0, ThreadsPerCall: > 0 } } ? new Result(stored.Best, stored.Trials, true, path, stored.Machine) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            return null; // measured again
        }
    }

    static void TryWrite(string path, Result result)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            string temp = $"{path}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, JsonSerializer.Serialize(new Stored(result.Machine, result.Best, [.. result.Trials], DateTimeOffset.UtcNow), Json));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only home costs a measurement next time, nothing else.
        }
    }
}
