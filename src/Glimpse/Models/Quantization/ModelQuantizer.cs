using System.Text.Json;

namespace Glimpse.Models.Quantization;

/// <summary>
/// Makes an int8 copy of a model folder: the visual and text encoders quantised
/// (<see cref="OnnxQuantizer"/>), every other file (configs, tokenizer) copied as it is. The copy
/// is a model of its own: its visual .onnx differs, so its vectors get their own identity and a
/// catalog of the float model never takes them. <c>quantization.json</c> records where it came from.
/// </summary>
public static class ModelQuantizer
{
    public const string RecordFile = "quantization.json";

    /// <summary>What a folder's quantisation did, per encoder.</summary>
    public sealed record Result(string Path, string Source, QuantizedWeights Weights, QuantizedGraph Visual, QuantizedGraph? Text);

    /// <summary>
    /// Writes the quantised copy of <paramref name="source"/> to <paramref name="destination"/>,
    /// built in a temporary folder beside it and renamed into place, so an interrupted run leaves
    /// no half model under the name.
    /// </summary>
    /// <exception cref="IOException">The destination exists.</exception>
    /// <exception cref="ModelFolderException">The source's encoders cannot be read.</exception>
    public static Result Quantize(ModelFolder source, string destination, QuantizedWeights weights, CancellationToken cancellationToken = default)
    {
        string target = System.IO.Path.GetFullPath(destination);
        if (Directory.Exists(target) || File.Exists(target))
            throw new IOException($"{target} already exists.");
        string temp = $"{target}.partial-{Environment.ProcessId}";
        if (Directory.Exists(temp))
            Directory.Delete(temp, recursive: true);

        var visualFile = OnnxModelFile.Read(source.VisualModelPath);
        OnnxModelFile? textFile = source.TextualModelPath is { } t ? OnnxModelFile.Read(t) : null;
        visualFile.EnsureExternalDataPresent();
        textFile?.EnsureExternalDataPresent();
        // The encoders' weight files are rewritten, not copied.
        var skip = new HashSet<string>(StringComparer.Ordinal) { source.VisualModelPath };
        if (textFile is not null)
            skip.Add(textFile.Path);
        foreach (OnnxModelFile f in new[] { visualFile, textFile }.OfType<OnnxModelFile>())
            foreach (string data in f.ExternalDataFiles)
                skip.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(f.Path)!, data)));

        try
        {
            foreach (string file in Directory.EnumerateFiles(source.Path, "*", SearchOption.AllDirectories))
            {
                if (skip.Contains(System.IO.Path.GetFullPath(file)) || System.IO.Path.GetFileName(file) == RecordFile)
                    continue;
                string copy = System.IO.Path.Combine(temp, System.IO.Path.GetRelativePath(source.Path, file));
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }

            QuantizedGraph visual = QuantizeInto(source, source.VisualModelPath, temp, weights, cancellationToken);
            QuantizedGraph? text = source.TextualModelPath is { } textual ? QuantizeInto(source, textual, temp, weights, cancellationToken) : null;
            if (visual.MatMuls + visual.Gemms == 0)
                throw new ModelFolderException($"{source.VisualModelPath} has no MatMul or Gemm with a constant weight: nothing to quantise (is it quantised already?).");

            var record = new
            {
                Source = source.Name,
                SourceVisualSha256 = source.ReadIdentity().VisualSha256,
                Method = "dynamic int8: MatMul/Gemm weights per output column, com.microsoft.DynamicQuantizeMatMul",
                Weights = weights.ToString(),
                Visual = visual,
                Text = text,
            };
            File.WriteAllText(System.IO.Path.Combine(temp, RecordFile), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }));
            Directory.Move(temp, target);
            return new Result(target, source.Path, weights, visual, text);
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
    }

    static QuantizedGraph QuantizeInto(ModelFolder source, string model, string temp, QuantizedWeights weights, CancellationToken cancellationToken)
    {
        string output = System.IO.Path.Combine(temp, System.IO.Path.GetRelativePath(source.Path, model));
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(output)!);
        try
        {
            return OnnxQuantizer.Quantize(model, output, weights, cancellationToken);
        }
        catch (Exception e) when (e is InvalidDataException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new ModelFolderException($"{model} cannot be quantised: {e.Message}", e);
        }
    }
}
