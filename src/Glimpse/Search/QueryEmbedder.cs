using Glimpse.Imaging;
using Glimpse.Models;

namespace Glimpse.Search;

/// <summary>
/// Turns a combined query into one unit vector: the weighted sum of each term's embedding (text
/// through the text encoder, images through the visual one), normalised. Encoders are loaded only
/// when a term needs them.
/// </summary>
public sealed class QueryEmbedder : IDisposable
{
    readonly ModelFolder _folder;
    ClipTextEncoder? _text;
    ClipImageEncoder? _image;

    public QueryEmbedder(ModelFolder folder) => _folder = folder;

    public float[] Embed(IReadOnlyList<QueryTerm> terms)
    {
        if (terms.Count == 0)
            throw new ArgumentException("The query has no terms.");
        float[]? sum = null;
        foreach (QueryTerm term in terms)
        {
            float[] v = term.IsImage ? EmbedImage(term.Text) : EmbedText(term.Text);
            sum ??= new float[v.Length];
            System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(v, term.Weight, sum, sum);
        }
        ClipImageEncoder.NormalizeInPlace(sum);
        return sum!;
    }

    float[] EmbedText(string text) => (_text ??= new ClipTextEncoder(_folder)).Encode([text]);

    float[] EmbedImage(string path)
    {
        _image ??= new ClipImageEncoder(_folder);
        var pre = new ClipPreprocessor(_folder.Preprocess);
        var tensor = new float[pre.TensorLength];
        pre.Preprocess(File.ReadAllBytes(path), tensor);
        return _image.Encode(tensor, 1);
    }

    public void Dispose()
    {
        _text?.Dispose();
        _image?.Dispose();
    }
}
