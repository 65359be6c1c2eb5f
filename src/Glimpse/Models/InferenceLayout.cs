namespace Glimpse.Models;

/// <summary>
/// How a model's inference uses the cores: <see cref="Calls"/> runs at once on the one session,
/// each with <see cref="ThreadsPerCall"/> ONNX Runtime threads.
/// </summary>
internal sealed record InferenceLayout(int Calls, int ThreadsPerCall)
{
    /// <summary>
    /// The layout for a model whose batch axis is <paramref name="fixedBatch"/> (null: dynamic),
    /// with what the user fixed (0: choose). A batched call spread over every core measured best on
    /// 2 cores; a batch-1 model cannot batch, so its throughput comes from one single-threaded call
    /// per core instead (NOTES.md: 1 thread x batch 1 x 2 calls 12.1–12.6 images/s against 10.5–13.1
    /// for 2 threads x batch 32 x 1 call, same model).
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

    public override string ToString() => $"{Calls} call{(Calls == 1 ? "" : "s")} at once x {ThreadsPerCall} thread{(ThreadsPerCall == 1 ? "" : "s")}";
}
