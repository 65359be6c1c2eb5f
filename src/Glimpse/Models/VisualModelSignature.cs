using Glimpse.Catalog;

namespace Glimpse.Models;

/// <summary>
/// A visual encoder as its .onnx file declares it, read without loading it: the image input and
/// its batch axis, the embedding output and its dimension, and the model's identity. Commands that
/// only need to know whether a folder is the catalog's model (search, serve) stop here.
/// </summary>
internal sealed record VisualModelSignature(OnnxModelFile File, string Input, int? FixedBatch, string Output, int Dimension, ModelIdentity Identity)
{
    // Immich (today and before) and Hugging Face name them so; any other float input of the right
    // rank and any [B,D] output also work.
    static readonly string[] KnownInputs = ["image", "pixel_values"];
    static readonly string[] KnownOutputs = ["embedding", "image_embedding", "image_embeds"];

    /// <exception cref="ModelFolderException">The file is not a CLIP visual encoder that fits the folder's preprocessing.</exception>
    public static VisualModelSignature Read(ModelFolder folder)
    {
        string path = folder.VisualModelPath;
        var file = OnnxModelFile.Read(path);
        var images = file.Inputs.Where(i => i.ElementType == OnnxValueInfo.Float && i.Dims.Count == 4).ToList();
        if (images.Count == 0)
            throw new ModelFolderException(
                $"{path} is not an image encoder: a float32 [B,3,H,W] input is needed, and its inputs are {Describe(file.Inputs)}.");
        OnnxValueInfo input = images.FirstOrDefault(i => KnownInputs.Contains(i.Name), images[0]);
        var d = input.Dims;
        if (d[1].Value is { } channels && channels != 3)
            throw new ModelFolderException($"{path}: input {input} has {channels} channels; CLIP images have 3.");
        var (h, w) = (folder.Preprocess.Height, folder.Preprocess.Width);
        if ((d[2].Value is { } mh && mh != h) || (d[3].Value is { } mw && mw != w))
            throw new ModelFolderException($"{path} takes {d[2]}x{d[3]} images but the preprocessing config says {h}x{w}.");

        var embeddings = file.Outputs.Where(o => o.Dims.Count == 2).ToList();
        if (embeddings.Count == 0)
            throw new ModelFolderException($"{path} has no [B,D] embedding output; its outputs are {Describe(file.Outputs)}.");
        OnnxValueInfo output = embeddings.FirstOrDefault(o => KnownOutputs.Contains(o.Name), embeddings[0]);
        int dim = output.Dims[1].Value is > 0 and var v ? (int)v
            : folder.ConfigEmbeddingDim ?? throw new ModelFolderException($"{path}: output '{output.Name}' has no fixed dimension and config.json gives none.");
        if (folder.ConfigEmbeddingDim is { } declared && declared != dim)
            throw new ModelFolderException($"{path} outputs {dim}-d embeddings but config.json declares {declared}.");

        var identity = new ModelIdentity(folder.Name, dim, ModelFingerprint.Of(file), folder.Preprocess.Describe()) { Folder = folder.Path };
        return new VisualModelSignature(file, input.Name, input.FixedBatch, output.Name, dim, identity);
    }

    static string Describe(IReadOnlyList<OnnxValueInfo> values) =>
        values.Count == 0 ? "none" : string.Join(", ", values.Select(v => v.ToString()));
}
