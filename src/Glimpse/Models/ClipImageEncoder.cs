using System.Numerics.Tensors;
using System.Security.Cryptography;
using Glimpse.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>
/// The process's one ONNX Runtime session of a CLIP visual encoder. Input and output names, the
/// input size and the embedding dimension are read from the .onnx file, not assumed.
/// <see cref="Encode"/> is thread-safe (ONNX Runtime sessions allow concurrent runs).
/// </summary>
public sealed class ClipImageEncoder : IDisposable
{
    // Immich and Hugging Face name them so; any other single float input / rank-2 output also works.
    static readonly string[] KnownInputs = ["image", "pixel_values"];
    static readonly string[] KnownOutputs = ["embedding", "image_embeds"];

    readonly InferenceSession _session;
    readonly string _inputName;
    readonly string _outputName;

    public ClipImageEncoder(ModelFolder folder, int intraOpThreads = 0)
    {
        Folder = folder;
        var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount,
            InterOpNumThreads = 1,
        };
        // Spinning threads would burn the cores the decoders need between batches.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");

        try
        {
            _session = new InferenceSession(folder.VisualModelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFolderException(
                $"{folder.VisualModelPath} is not a loadable ONNX model: {ImageDecoder.OneLine(e.Message)}", e);
        }
        finally
        {
            options.Dispose();
        }

        try
        {
            (_inputName, _outputName, Dimension) = InspectSession(_session, folder);
            Identity = new ModelIdentity(folder.Name, Dimension, Sha256Of(folder.VisualModelPath), folder.Preprocess.Describe()) { Folder = folder.Path };
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public ModelFolder Folder { get; }
    public int Dimension { get; }
    public ModelIdentity Identity { get; }
    public int InputSize => Folder.Preprocess.Size;

    /// <summary>
    /// Encodes <paramref name="count"/> preprocessed images laid out back to back in
    /// <paramref name="tensors"/> (CHW each) and returns their L2-normalised embeddings, row-major.
    /// </summary>
    public float[] Encode(Memory<float> tensors, int count)
    {
        int s = InputSize;
        int per = 3 * s * s;
        if (tensors.Length < count * per)
            throw new ArgumentException($"{count} images need {count * per} floats; got {tensors.Length}.", nameof(tensors));

        using var input = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, tensors[..(count * per)], [count, 3, s, s]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [_inputName], [input], [_outputName]);
        ReadOnlySpan<float> raw = outputs[0].GetTensorDataAsSpan<float>();
        if (raw.Length != count * Dimension)
            throw new InvalidOperationException($"The visual model returned {raw.Length} values for {count} images of dimension {Dimension}.");

        var vectors = raw.ToArray();
        for (int i = 0; i < count; i++)
            NormalizeInPlace(vectors.AsSpan(i * Dimension, Dimension));
        return vectors;
    }

    /// <summary>Scales <paramref name="vector"/> to unit length (a zero vector stays zero).</summary>
    public static void NormalizeInPlace(Span<float> vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && float.IsFinite(norm))
            TensorPrimitives.Divide(vector, norm, vector);
    }

    static (string Input, string Output, int Dimension) InspectSession(InferenceSession session, ModelFolder folder)
    {
        string file = System.IO.Path.GetRelativePath(folder.Path, folder.VisualModelPath);
        var floatInputs = session.InputMetadata.Where(kv => kv.Value.ElementType == typeof(float)).ToList();
        if (floatInputs.Count == 0)
            throw new ModelFolderException($"{file} has no float32 image input.");
        var input = floatInputs.FirstOrDefault(kv => KnownInputs.Contains(kv.Key), floatInputs[0]);
        int[] inDims = input.Value.Dimensions;
        if (inDims.Length != 4 || (inDims[1] > 0 && inDims[1] != 3))
            throw new ModelFolderException($"{file}: input '{input.Key}' has shape [{string.Join(',', inDims)}]; a [B,3,S,S] image input is needed.");
        int s = folder.Preprocess.Size;
        if ((inDims[2] > 0 && inDims[2] != s) || (inDims[3] > 0 && inDims[3] != s))
            throw new ModelFolderException($"{file} takes {inDims[2]}x{inDims[3]} images but the preprocessing config says {s}.");

        var rank2 = session.OutputMetadata.Where(kv => kv.Value.Dimensions.Length == 2).ToList();
        if (rank2.Count == 0)
            throw new ModelFolderException($"{file} has no [B,D] embedding output.");
        var output = rank2.FirstOrDefault(kv => KnownOutputs.Contains(kv.Key), rank2[0]);
        int dim = output.Value.Dimensions[1];
        if (dim <= 0)
            dim = folder.ConfigEmbeddingDim ?? throw new ModelFolderException($"{file}: output '{output.Key}' has no fixed dimension and config.json gives none.");
        if (folder.ConfigEmbeddingDim is { } declared && declared != dim)
            throw new ModelFolderException($"{file} outputs {dim}-d embeddings but config.json declares {declared}.");
        return (input.Key, output.Key, dim);
    }

    static string Sha256Of(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    public void Dispose() => _session.Dispose();
}
