using Glimpse.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>Where ONNX Runtime runs a model: the CPU, or CUDA device <see cref="Index"/>.</summary>
public sealed record ExecutionDevice(bool IsCuda, int Index = 0)
{
    public static ExecutionDevice Cpu { get; } = new(false);

    public override string ToString() => IsCuda ? $"cuda:{Index}" : "cpu";

    /// <summary>The provider name ONNX Runtime lists when it was built with CUDA.</summary>
    const string CudaProvider = "CUDAExecutionProvider";

    /// <summary>
    /// Reads <c>--device</c>: <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c>, or <c>auto</c> (null: CUDA
    /// device 0 when it can be used, else the CPU; see <see cref="Resolve"/>).
    /// </summary>
    /// <exception cref="FormatException">None of those.</exception>
    public static ExecutionDevice? Parse(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t == "auto")
            return null;
        if (t == "cpu")
            return Cpu;
        if (t == "cuda")
            return new(true, 0);
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), out int index) && index >= 0)
            return new(true, index);
        throw new FormatException($"--device must be auto, cpu, cuda or cuda:N, not '{text}'.");
    }

    /// <summary>
    /// The device to run on. <paramref name="requested"/> null (auto) takes CUDA device 0 when this
    /// build of ONNX Runtime has the CUDA provider and its CUDA and cuDNN libraries load, else the
    /// CPU, with the one-line reason in <paramref name="whyCpu"/>.
    /// </summary>
    /// <exception cref="ModelFolderException">CUDA was asked for and cannot be used (the reason in one line).</exception>
    public static ExecutionDevice Resolve(ExecutionDevice? requested, out string? whyCpu)
    {
        whyCpu = null;
        if (requested is { IsCuda: false })
            return Cpu;
        string? problem = CudaProblem(requested?.Index ?? 0);
        if (problem is null)
            return requested ?? new ExecutionDevice(true, 0);
        if (requested is not null)
            throw new ModelFolderException($"--device {requested} cannot be used: {problem}");
        whyCpu = problem;
        return Cpu;
    }

    /// <summary>Why CUDA device <paramref name="index"/> cannot run a model; null when it can.</summary>
    static string? CudaProblem(int index)
    {
        if (!OnnxRuntimeEnvironment.Get().GetAvailableProviders().Contains(CudaProvider))
            return "this build of Glimpse carries ONNX Runtime's CPU provider only (build it with -p:GlimpseGpu=true for CUDA; README: GPUs).";
        try
        {
            // Appending the provider loads its library and, through it, CUDA's and cuDNN's.
            using var options = new SessionOptions();
            options.AppendExecutionProvider_CUDA(index);
            return null;
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException)
        {
            // The exception says only that a library did not load; ONNX Runtime's log says which.
            string? logged = OnnxRuntimeEnvironment.TakeLastError();
            const string marker = "with error: ";
            string why = logged?.LastIndexOf(marker, StringComparison.Ordinal) is int at and >= 0
                ? logged[(at + marker.Length)..]
                : ImageDecoder.OneLine(e.Message);
            return $"ONNX Runtime's CUDA provider did not load on device {index}: {ImageDecoder.OneLine(why)} (it needs the CUDA and cuDNN versions of README: GPUs).";
        }
    }
}
