using Glimpse.Imaging;
using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>
/// The CLIP text encoder of a model folder, with its tokenizer. Inputs follow the folder: Immich
/// takes <c>text</c> int32 [B, ctx]; Hugging Face takes <c>input_ids</c> int64 and, when the model
/// has it, <c>attention_mask</c>. Thread-safe.
/// </summary>
public sealed class ClipTextEncoder : IDisposable
{
    readonly InferenceSession _session;
    readonly string _idsName;
    readonly bool _idsAreInt64;
    readonly string? _maskName;
    readonly string _outputName;

    public ClipTextEncoder(ModelFolder folder, int intraOpThreads = 0)
    {
        if (folder.TextualModelPath is null)
            throw new ModelFolderException($"model folder {folder.Path} has no text encoder ({(folder.Layout == ModelLayout.Immich ? "textual/model.onnx" : "onnx/text_model.onnx")}): text search needs one.");
        Tokenizer = ClipTokenizer.Load(folder.TokenizerPath, folder.ContextLength);
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            IntraOpNumThreads = intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount,
            InterOpNumThreads = 1,
        };
        try
        {
            _session = new InferenceSession(folder.TextualModelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ModelFolderException($"{folder.TextualModelPath} is not a loadable ONNX model: {ImageDecoder.OneLine(e.Message)}", e);
        }

        try
        {
            var inputs = _session.InputMetadata;
            var ids = inputs.FirstOrDefault(kv => kv.Key is "text" or "input_ids");
            if (ids.Key is null)
                ids = inputs.FirstOrDefault(kv => kv.Value.ElementType == typeof(int) || kv.Value.ElementType == typeof(long));
            if (ids.Key is null)
                throw new ModelFolderException($"{folder.TextualModelPath} has no integer token-id input.");
            _idsName = ids.Key;
            _idsAreInt64 = ids.Value.ElementType == typeof(long);
            _maskName = inputs.Keys.FirstOrDefault(k => k == "attention_mask");
            var output = _session.OutputMetadata.FirstOrDefault(kv => kv.Key is "embedding" or "text_embeds");
            if (output.Key is null)
                output = _session.OutputMetadata.First(kv => kv.Value.Dimensions.Length == 2);
            _outputName = output.Key;
            Dimension = output.Value.Dimensions[1] > 0 ? output.Value.Dimensions[1] : folder.ConfigEmbeddingDim ?? 0;
            // Hugging Face pads with the end token (the attention mask hides it); open_clip pads with 0.
            _pad = folder.Layout == ModelLayout.HuggingFace ? Tokenizer.EndId : 0;
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    readonly int _pad;

    public ClipTokenizer Tokenizer { get; }
    public int Dimension { get; }

    /// <summary>L2-normalised embeddings of <paramref name="texts"/>, row-major.</summary>
    public float[] Encode(IReadOnlyList<string> texts)
    {
        int ctx = Tokenizer.ContextLength;
        var rows = texts.Select(t => Tokenizer.EncodeRow(t, _pad)).ToList();
        long[] shape = [texts.Count, ctx];
        var values = new List<OrtValue>();
        try
        {
            if (_idsAreInt64)
                values.Add(OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r.Select(x => (long)x)).ToArray(), shape));
            else
                values.Add(OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r).ToArray(), shape));
            var names = new List<string> { _idsName };
            if (_maskName is not null)
            {
                // 1 up to and including the end token of each row, 0 on the padding.
                var mask = new long[texts.Count * ctx];
                for (int r = 0; r < rows.Count; r++)
                {
                    int end = Array.IndexOf(rows[r], Tokenizer.EndId);
                    for (int k = 0; k <= end; k++)
                        mask[r * ctx + k] = 1;
                }
                values.Add(OrtValue.CreateTensorValueFromMemory(mask, shape));
                names.Add(_maskName);
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            float[] vectors = outputs[0].GetTensorDataAsSpan<float>().ToArray();
            int dim = vectors.Length / texts.Count;
            for (int i = 0; i < texts.Count; i++)
                ClipImageEncoder.NormalizeInPlace(vectors.AsSpan(i * dim, dim));
            return vectors;
        }
        finally
        {
            foreach (var v in values)
                v.Dispose();
        }
    }

    public void Dispose() => _session.Dispose();
}
