using Glimpse.Imaging;
using Glimpse.Models;

namespace Glimpse.Search;

/// <summary>
/// Turns a combined query into one unit vector: the weighted sum of each term's embedding (text
/// through the text encoder, images through the visual one), normalised. Encoders are loaded only
/// when a term needs them. Thread-safe: a server embeds many queries at once on its encoders.
/// </summary>
public sealed class QueryEmbedder : IDisposable
{
    readonly ModelFolder _folder;
    readonly Lazy<ClipTextEncoder> _text;
    readonly Lazy<ClipImageEncoder> _image;

    public QueryEmbedder(ModelFolder folder, int intraOpThreads = 0)
    {
        _folder = folder;
        _text = new Lazy<ClipTextEncoder>(() => new ClipTextEncoder(folder, intraOpThreads));
        _image = new Lazy<ClipImageEncoder>(() => new ClipImageEncoder(folder, intraOpThreads));
    }

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

    float[] EmbedText(string text) => _text.Value.Encode([text]);

    float[] EmbedImage(string path)
    {
        var pre = new ClipPreprocessor(_folder.Preprocess);
        var tensor = new float[pre.TensorLength];
        pre.Preprocess(File.ReadAllBytes(path), tensor, path);
        return _image.Value.Encode(tensor, 1);
    }

    public void Dispose()
    {
        if (_text.IsValueCreated)
            _text.Value.Dispose();
        if (_image.IsValueCreated)
            _image.Value.Dispose();
    }
}
