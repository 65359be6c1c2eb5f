using Google.Protobuf;
using Onnx;

namespace Glimpse.Models.Quantization;

/// <summary>
/// Dynamic int8 quantisation of one .onnx graph, as ONNX Runtime's <c>quantize_dynamic</c> does
/// it for transformers: every MatMul and Gemm whose weight is a constant 2-D float matrix becomes
/// one <c>com.microsoft.DynamicQuantizeMatMul</c>, with the weight stored as 8-bit integers and one
/// scale per output column; activations are quantised per call at run time. Everything else
/// (convolutions, embeddings, normalisation, attention between activations) stays float.
/// </summary>
/// <remarks>
/// The graph is read whole through classes generated from onnx.proto. Weights kept in
/// external-data files are read from beside the source; the result is written inline, or with one
/// external-data file of its own when it would pass protobuf's 2 GB limit.
/// </remarks>
internal static class OnnxQuantizer
{
    const string MicrosoftDomain = "com.microsoft";

    /// <summary>Above this, the output keeps its tensors in an external-data file (protobuf stops at 2 GB).</summary>
    const long InlineLimitBytes = 1_800_000_000;

    /// <summary>Smaller tensors stay inline even in an external-data output (as ONNX's own saver does).</summary>
    const int ExternalThresholdBytes = 1024;

    public static QuantizedGraph Quantize(string sourcePath, string destinationPath, QuantizedWeights weights, CancellationToken cancellationToken = default)
    {
        string sourceDir = Path.GetDirectoryName(Path.GetFullPath(sourcePath))!;
        ModelProto model;
        using (var stream = File.OpenRead(sourcePath))
            model = ModelProto.Parser.ParseFrom(stream);
        GraphProto graph = model.Graph ?? throw new InvalidDataException($"{sourcePath} has no graph.");

        var initializers = graph.Initializer.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var uses = CountUses(graph);
        var quantized = new Dictionary<string, (string Weight, string Scale, string ZeroPoint, bool Transposed)>(StringComparer.Ordinal);
        int matMuls = 0, gemms = 0, leftFloat = 0;
        long floatWeightBytes = 0, intWeightBytes = 0;

        for (int i = 0; i < graph.Node.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            NodeProto node = graph.Node[i];
            if (node.OpType is not ("MatMul" or "Gemm") || node.Domain is not ("" or "ai.onnx") || node.Input.Count < 2)
                continue;
            bool gemm = node.OpType == "Gemm";
            if (!initializers.TryGetValue(node.Input[1], out TensorProto? b) || !IsFloatMatrix(b)
                || gemm && !GemmFits(node, graph, initializers, b))
            {
                leftFloat++;
                continue;
            }

            bool transB = gemm && IntAttribute(node, "transB", 0) == 1;
            string bias = gemm && node.Input.Count > 2 ? node.Input[2] : "";
            if (!quantized.TryGetValue(KeyOf(b.Name, transB), out var q))
            {
                float[] w = TensorData.ReadFloats(b, sourceDir);
                int rows = (int)b.Dims[0], cols = (int)b.Dims[1];
                // DynamicQuantizeMatMul takes B as [K, N]; a Gemm with transB stores it as [N, K].
                if (transB)
                    (w, rows, cols) = (Transpose(w, rows, cols), cols, rows);
                var (data, scales, zeroPoints, type) = WeightQuantizer.PerColumn(w, rows, cols, weights);
                string stem = transB ? b.Name + "_transposed" : b.Name;
                q = (stem + "_quantized", stem + "_scale", stem + "_zero_point", transB);
                graph.Initializer.Add(TensorData.Make(q.Weight, type, [rows, cols], data));
                graph.Initializer.Add(TensorData.Make(q.Scale, TensorProto.Types.DataType.Float, [cols], TensorData.Bytes(scales)));
                graph.Initializer.Add(TensorData.Make(q.ZeroPoint, type, [cols], zeroPoints));
                quantized[KeyOf(b.Name, transB)] = q;
                floatWeightBytes += (long)w.Length * sizeof(float);
                intWeightBytes += data.Length;
            }

            var replacement = new NodeProto
            {
                Name = (node.Name.Length > 0 ? node.Name : $"node{i}") + "_quant",
                OpType = "DynamicQuantizeMatMul",
                Domain = MicrosoftDomain,
            };
            replacement.Input.Add(node.Input[0]);
            replacement.Input.Add(q.Weight);
            replacement.Input.Add(q.Scale);
            replacement.Input.Add(q.ZeroPoint);
            if (bias.Length > 0)
                replacement.Input.Add(bias);
            replacement.Output.Add(node.Output);
            graph.Node[i] = replacement;
            uses[b.Name]--;
            if (gemm) gemms++; else matMuls++;
        }

        // The float weights no node reads any more go; so do their listings as graph inputs (old exporters).
        var gone = uses.Where(u => u.Value <= 0 && initializers.ContainsKey(u.Key) && quantized.Keys.Any(k => k.StartsWith(u.Key + "\n", StringComparison.Ordinal)))
            .Select(u => u.Key).ToHashSet(StringComparer.Ordinal);
        RemoveAll(graph.Initializer, t => gone.Contains(t.Name));
        RemoveAll(graph.Input, v => gone.Contains(v.Name));
        RemoveAll(graph.ValueInfo, v => gone.Contains(v.Name));

        if (matMuls + gemms > 0 && !model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        model.ProducerName = "glimpse models quantize";

        Save(model, sourceDir, destinationPath, cancellationToken);
        return new QuantizedGraph(matMuls, gemms, leftFloat, floatWeightBytes, intWeightBytes);
    }

    static string KeyOf(string name, bool transposed) => name + "\n" + (transposed ? "T" : "");

    static bool IsFloatMatrix(TensorProto t) =>
        t.DataType == (int)TensorProto.Types.DataType.Float && t.Dims.Count == 2 && t.Dims[0] > 0 && t.Dims[1] > 0;

    /// <summary>A Gemm that is a plain <c>A·B + C</c>: alpha 1, A not transposed, C absent or a constant row of N (scaled by beta here).</summary>
    static bool GemmFits(NodeProto node, GraphProto graph, Dictionary<string, TensorProto> initializers, TensorProto b)
    {
        if (FloatAttribute(node, "alpha", 1f) != 1f || IntAttribute(node, "transA", 0) != 0)
            return false;
        if (node.Input.Count < 3 || node.Input[2].Length == 0)
            return true;
        long n = IntAttribute(node, "transB", 0) == 1 ? b.Dims[0] : b.Dims[1];
        if (!initializers.TryGetValue(node.Input[2], out TensorProto? c) || c.DataType != (int)TensorProto.Types.DataType.Float
            || c.Dims.Count != 1 || c.Dims[0] != n)
            return false;
        return FloatAttribute(node, "beta", 1f) == 1f;
    }

    static long IntAttribute(NodeProto node, string name, long fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.I : fallback;

    static float FloatAttribute(NodeProto node, string name, float fallback) =>
        node.Attribute.FirstOrDefault(a => a.Name == name) is { } a ? a.F : fallback;

    /// <summary>How many nodes read each name, in the graph and in any subgraph (so a weight a subgraph reads is kept).</summary>
    static Dictionary<string, int> CountUses(GraphProto graph)
    {
        var uses = new Dictionary<string, int>(StringComparer.Ordinal);
        void Walk(GraphProto g)
        {
            foreach (NodeProto n in g.Node)
            {
                foreach (string input in n.Input)
                    uses[input] = uses.GetValueOrDefault(input) + 1;
                foreach (AttributeProto a in n.Attribute)
                {
                    if (a.G is not null)
                        Walk(a.G);
                    foreach (GraphProto sub in a.Graphs)
                        Walk(sub);
                }
            }
            foreach (ValueInfoProto output in g.Output)
                uses[output.Name] = uses.GetValueOrDefault(output.Name) + 1;
        }
        Walk(graph);
        return uses;
    }

    internal static float[] Transpose(float[] w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                t[c * rows + r] = w[r * cols + c];
        return t;
    }

    static void RemoveAll<T>(Google.Protobuf.Collections.RepeatedField<T> field, Func<T, bool> match)
    {
        for (int i = field.Count - 1; i >= 0; i--)
            if (match(field[i]))
                field.RemoveAt(i);
    }

    /// <summary>
    /// Writes the model to a temporary name and renames it into place. Tensors the source kept
    /// outside come inline, unless the whole would pass protobuf's limit: then every tensor over
    /// 1 KB goes to <c>NAME.data</c> beside it.
    /// </summary>
    static void Save(ModelProto model, string sourceDir, string destinationPath, CancellationToken cancellationToken)
    {
        GraphProto graph = model.Graph;
        foreach (TensorProto t in graph.Initializer)
            TensorData.Inline(t, sourceDir);
        string temp = destinationPath + ".partial";
        string dataName = Path.GetFileName(destinationPath) + ".data";
        string dataPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(destinationPath))!, dataName);
        bool external = graph.Initializer.Sum(t => (long)t.RawData.Length) > InlineLimitBytes;
        if (external)
        {
            using var data = new FileStream(dataPath + ".partial", FileMode.Create, FileAccess.Write);
            foreach (TensorProto t in graph.Initializer)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (t.RawData.Length <= ExternalThresholdBytes)
                    continue;
                long offset = data.Position;
                data.Write(t.RawData.Span);
                t.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = dataName });
                t.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                t.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = t.RawData.Length.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                t.DataLocation = TensorProto.Types.DataLocation.External;
                t.ClearRawData();
            }
            data.Flush(flushToDisk: true);
        }
        using (var output = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            model.WriteTo(output);
            output.Flush(flushToDisk: true);
        }
        if (external)
            File.Move(dataPath + ".partial", dataPath, overwrite: true);
        File.Move(temp, destinationPath, overwrite: true);
    }
}
