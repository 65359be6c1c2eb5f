namespace Glimpse.Models;

/// <summary>
/// How a model's inference uses the cores: <see cref="Calls"/> runs at once on the one session,
/// each with <see cref="ThreadsPerCall"/> ONNX Runtime threads and <see cref="RunSize"/> images
/// (0: a batch's images in one run).
/// </summary>
public sealed record InferenceLayout(int Calls, int ThreadsPerCall, int RunSize = 0)
{
    /// <summary>
    /// The layout for a model whose batch axis is <paramref name="fixedBatch"/> (null: dynamic),
    /// with what the user fixed (0: choose), when nothing was measured. A batched call spread over
    /// every core; a batch-1 model cannot batch, so its throughput comes from one single-threaded
    /// call per core instead (NOTES.md). <see cref="LayoutCalibration"/> measures instead of guessing.
    /// </summary>
    public static InferenceLayout Choose(int? fixedBatch, int threads = 0, int calls = 0, int? cores = null)
    {
        int n = Math.Max(1, cores ?? Environment.ProcessorCount);
        bool cannotBatch = fixedBatch == 1;
        if (threads > 0 && calls > 0)
            return new(calls, threads);
        if (calls > 0)
            return new(calls, Math.Max(1, n / calls));
        if (threads > 0)
            return new(cannotBatch ? Math.Max(1, n / threads) : 1, threads);
        return cannotBatch ? new(n, 1) : new(1, n);
    }

    /// <summary>Images one batch should hold so that every call has a run: at least <paramref name="wanted"/>.</summary>
    public int BatchFor(int wanted) => Math.Max(wanted, Calls * Math.Max(1, RunSize));

    public override string ToString() =>
        $"{Calls} call{(Calls == 1 ? "" : "s")} at once x {ThreadsPerCall} thread{(ThreadsPerCall == 1 ? "" : "s")}" +
        (RunSize > 0 ? $" x {RunSize} image{(RunSize == 1 ? "" : "s")} per run" : " x the whole batch per run");
}
