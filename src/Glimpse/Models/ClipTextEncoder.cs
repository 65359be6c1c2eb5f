using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>
/// The CLIP text encoder of a model folder, with its tokenizer. Inputs follow the .onnx file:
/// Immich takes <c>text</c> int32 [B, ctx] (a static batch of 1 from today's exporter); Hugging
/// Face takes <c>input_ids</c> int64 and, when the model has it, <c>attention_mask</c>. Outputs
/// are found by name (<c>embedding</c>, <c>text_embedding</c>, <c>text_embeds</c>) or shape.
/// Thread-safe: a server encodes many queries at once.
/// </summary>
internal sealed class ClipTextEncoder : IDisposable
{
    static readonly string[] KnownIds = ["text", "input_ids"];
    static readonly string[] KnownOutputs = ["embedding", "text_embedding", "text_embeds"];

    readonly InferenceSession _session;
    readonly OnnxValueInfo _ids;
    readonly OnnxValueInfo? _mask;
    readonly string _outputName;
    readonly int _pad;

    public ClipTextEncoder(ModelFolder folder, int intraOpThreads = 0)
    {
        if (folder.TextualModelPath is null)
            throw new ModelFolderException($"model folder {folder.Path} has no text encoder ({(folder.Layout == ModelLayout.Immich ? "textual/model.onnx" : "onnx/text_model.onnx")}): text search needs one.");
        string path = folder.TextualModelPath;
        var file = OnnxModelFile.Read(path);
        (_ids, _mask) = FindInputs(file);
        int context = _ids.Dims.Count == 2 && _ids.Dims[1].Value is > 0 and var fixedContext ? (int)fixedContext : folder.ContextLength;
        Tokenizer = ClipTokenizer.Load(folder.TokenizerPath, context);

        var outputs = file.Outputs.Where(o => o.Dims.Count == 2 && o.ElementType == OnnxValueInfo.Float).ToList();
        if (outputs.Count == 0)
            throw new ModelFolderException($"{path} has no float32 [B,D] embedding output; its outputs are {string.Join(", ", file.Outputs)}.");
        OnnxValueInfo output = outputs.FirstOrDefault(o => KnownOutputs.Contains(o.Name), outputs[0]);
        _outputName = output.Name;
        Dimension = output.Dims[1].Value is > 0 and var d ? (int)d : folder.ConfigEmbeddingDim ?? 0;
        FixedBatch = _ids.FixedBatch;
        // Hugging Face pads with the end token (the attention mask hides it); open_clip pads with 0.
        _pad = folder.Layout == ModelLayout.HuggingFace ? Tokenizer.EndId : 0;
        _session = OnnxSession.Open(file, intraOpThreads > 0 ? intraOpThreads : Environment.ProcessorCount);
    }

    public ClipTokenizer Tokenizer { get; }
    public int Dimension { get; }

    /// <summary>The model's fixed batch size, or null when its batch axis is dynamic.</summary>
    public int? FixedBatch { get; }

    /// <summary>The token-id input and the attention mask, if any; an input Glimpse cannot fill is refused by name.</summary>
    static (OnnxValueInfo Ids, OnnxValueInfo? Mask) FindInputs(OnnxModelFile file)
    {
        static bool IsInteger(OnnxValueInfo v) => v.ElementType is OnnxValueInfo.Int32 or OnnxValueInfo.Int64;
        OnnxValueInfo? ids = file.Inputs.FirstOrDefault(i => KnownIds.Contains(i.Name)) ?? file.Inputs.FirstOrDefault(IsInteger);
        if (ids is null)
            throw new ModelFolderException($"{file.Path} has no token-id input; its inputs are {string.Join(", ", file.Inputs)}.");
        if (!IsInteger(ids) || ids.Dims.Count != 2)
            throw new ModelFolderException($"{file.Path}: input {ids} cannot take token ids; the tokenizer fills int32 or int64 [B, context] tensors.");
        OnnxValueInfo? mask = file.Inputs.FirstOrDefault(i => i.Name == "attention_mask");
        if (mask is not null && !IsInteger(mask))
            throw new ModelFolderException($"{file.Path}: input {mask} is not an integer mask.");
        var others = file.Inputs.Where(i => i != ids && i != mask).ToList();
        if (others.Count > 0)
            throw new ModelFolderException($"{file.Path} needs inputs Glimpse cannot fill: {string.Join(", ", others)}.");
        return (ids, mask);
    }

    /// <summary>L2-normalised embeddings of <paramref name="texts"/>, row-major; a fixed-batch model runs them in runs of its size.</summary>
    public float[] Encode(IReadOnlyList<string> texts)
    {
        int ctx = Tokenizer.ContextLength;
        var rows = texts.Select(t => Tokenizer.EncodeRow(t, _pad)).ToList();
        int run = FixedBatch ?? Math.Max(rows.Count, 1);
        var vectors = new List<float>();
        for (int first = 0; first < rows.Count; first += run)
        {
            var chunk = rows.Skip(first).Take(run).ToList();
            int used = chunk.Count;
            while (chunk.Count < run)
                chunk.Add(Tokenizer.EncodeRow("", _pad)); // a fixed batch is filled with empty texts, then dropped
            float[] output = RunOnce(chunk, ctx);
            vectors.AddRange(output.AsSpan(0, output.Length / run * used).ToArray());
        }
        float[] result = vectors.ToArray();
        int dim = result.Length / Math.Max(texts.Count, 1);
        for (int i = 0; i < texts.Count; i++)
            ClipImageEncoder.NormalizeInPlace(result.AsSpan(i * dim, dim));
        return result;
    }

    float[] RunOnce(IReadOnlyList<int[]> rows, int ctx)
    {
        long[] shape = [rows.Count, ctx];
        var values = new List<OrtValue>();
        try
        {
            values.Add(IdsTensor(_ids, rows.SelectMany(r => r).ToArray(), shape));
            var names = new List<string> { _ids.Name };
            if (_mask is not null)
            {
                // 1 up to and including the end token of each row, 0 on the padding.
                var mask = new int[rows.Count * ctx];
                for (int r = 0; r < rows.Count; r++)
                {
                    int end = Array.IndexOf(rows[r], Tokenizer.EndId);
                    for (int k = 0; k <= end; k++)
                        mask[r * ctx + k] = 1;
                }
                values.Add(IdsTensor(_mask, mask, shape));
                names.Add(_mask.Name);
            }
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, names, values, [_outputName]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
        finally
        {
            foreach (var v in values)
                v.Dispose();
        }
    }

    static OrtValue IdsTensor(OnnxValueInfo input, int[] values, long[] shape) =>
        input.ElementType == OnnxValueInfo.Int64
            ? OrtValue.CreateTensorValueFromMemory(values.Select(x => (long)x).ToArray(), shape)
            : OrtValue.CreateTensorValueFromMemory(values, shape);

    public void Dispose() => _session.Dispose();
}
