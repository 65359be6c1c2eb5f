using Glimpse.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>Opens the ONNX Runtime sessions of both encoders the same way.</summary>
internal static class OnnxSession
{
    /// <summary>
    /// A session of <paramref name="model"/> with <paramref name="threads"/> intra-op threads, on
    /// the CPU or on the CUDA device given (with the CPU provider for any node CUDA lacks).
    /// </summary>
    /// <exception cref="ModelFolderException">An external-data file is missing, or ONNX Runtime cannot load the file.</exception>
    public static InferenceSession Open(OnnxModelFile model, int threads, ExecutionDevice? device = null)
    {
        model.EnsureExternalDataPresent();
        OnnxRuntimeEnvironment.Get();

        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Math.Max(1, threads),
            InterOpNumThreads = 1,
        };
        // Spinning threads would burn the cores the decoders need between batches.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            if (device is { IsCuda: true, Index: var index })
                options.AppendExecutionProvider_CUDA(index);
            // Loaded by its full path, so external data is found beside it from any working directory.
            return new InferenceSession(model.Path, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFolderException($"{model.Path} is not a loadable ONNX model: {ImageDecoder.OneLine(e.Message)}", e);
        }
    }
}
