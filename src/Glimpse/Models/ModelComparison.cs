using System.Numerics.Tensors;
using Glimpse.Imaging;
using Glimpse.Indexing;

namespace Glimpse.Models;

/// <summary>
/// What switching from one model to another does to a user's own images: a seeded sample of the
/// library embedded by both, each image's two vectors compared (when both models share an
/// embedding space, as a quantised copy does) and each image's nearest neighbours within the sample
/// compared, which holds for any two models.
/// </summary>
public static class ModelComparison
{
    /// <summary>The comparison of model A and B over <see cref="Compared"/> images.</summary>
    /// <param name="MeanCosine">Mean cosine between an image's A and B vector; null when the dimensions differ.</param>
    /// <param name="MinCosineImage">The image (relative to the root) whose two vectors differ most.</param>
    /// <param name="MeanNeighbourOverlap">Mean share of an image's top-<see cref="K"/> neighbours under A that are also its top-K under B.</param>
    public sealed record Result(
        int Found, int Sampled, int Compared, int Failed, string? FirstFailure,
        double? MeanCosine, double? MinCosine, string? MinCosineImage,
        int K, double MeanNeighbourOverlap, double MinNeighbourOverlap);

    public static Result Run(ClipImageEncoder a, ClipImageEncoder b, string root, int sample, int seed, Action<string> warn, CancellationToken cancellationToken)
    {
        var scanner = new FileScanner(root, excludedDir: Path.Combine(Path.GetFullPath(root), ".glimpse"), warn);
        var files = scanner.Scan(cancellationToken).Select(f => f.Path).Order(StringComparer.Ordinal).ToList();
        var chosen = Sample(files, sample, seed);

        var tensorsA = Prepare(a, root, chosen, out bool[] okA, out string? failA, cancellationToken);
        var tensorsB = SamePreprocess(a, b) ? tensorsA : Prepare(b, root, chosen, out _, out _, cancellationToken);
        var kept = Enumerable.Range(0, chosen.Count).Where(i => okA[i]).ToList();
        float[] va = Encode(a, tensorsA, kept, cancellationToken);
        float[] vb = Encode(b, tensorsB, kept, cancellationToken);
        int n = kept.Count;

        double? mean = null, min = null;
        string? worst = null;
        if (a.Dimension == b.Dimension && n > 0)
        {
            double sum = 0, lowest = double.MaxValue;
            for (int i = 0; i < n; i++)
            {
                double c = TensorPrimitives.Dot(va.AsSpan(i * a.Dimension, a.Dimension), vb.AsSpan(i * b.Dimension, b.Dimension));
                sum += c;
                if (c < lowest)
                    (lowest, worst) = (c, chosen[kept[i]]);
            }
            (mean, min) = (sum / n, lowest);
        }

        int k = Math.Min(10, Math.Max(0, n - 1));
        double overlapSum = 0, overlapMin = k > 0 ? 1 : 0;
        for (int i = 0; i < n && k > 0; i++)
        {
            var na = Neighbours(va, a.Dimension, n, i, k);
            var nb = Neighbours(vb, b.Dimension, n, i, k);
            double share = (double)na.Intersect(nb).Count() / k;
            overlapSum += share;
            overlapMin = Math.Min(overlapMin, share);
        }
        return new Result(files.Count, chosen.Count, n, chosen.Count - n, failA, mean, min, worst, k, n > 0 && k > 0 ? overlapSum / n : 0, overlapMin);
    }

    /// <summary>A uniform sample without replacement, the same for the same files and seed.</summary>
    static List<string> Sample(List<string> files, int count, int seed)
    {
        var random = new Random(seed);
        var copy = files.ToArray();
        int take = Math.Min(count, copy.Length);
        for (int i = 0; i < take; i++)
        {
            int j = random.Next(i, copy.Length);
            (copy[i], copy[j]) = (copy[j], copy[i]);
        }
        return [.. copy.Take(take)];
    }

    static bool SamePreprocess(ClipImageEncoder a, ClipImageEncoder b) =>
        a.Folder.Preprocess.Describe() == b.Folder.Preprocess.Describe() && a.Folder.Preprocess.CropRounding == b.Folder.Preprocess.CropRounding;

    static float[][] Prepare(ClipImageEncoder encoder, string root, List<string> files, out bool[] ok, out string? firstFailure, CancellationToken cancellationToken)
    {
        var pre = new ClipPreprocessor(encoder.Folder.Preprocess);
        int per = encoder.Folder.Preprocess.TensorLength;
        var tensors = new float[files.Count][];
        var good = new bool[files.Count];
        string? failure = null;
        Parallel.For(0, files.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            try
            {
                var t = new float[per];
                pre.Preprocess(File.ReadAllBytes(Path.Combine(root, files[i])), t, files[i]);
                tensors[i] = t;
                good[i] = true;
            }
            catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException)
            {
                Interlocked.CompareExchange(ref failure, $"{files[i]}: {ImageDecoder.OneLine(e.Message)}", null);
            }
        });
        ok = good;
        firstFailure = failure;
        return tensors;
    }

    static float[] Encode(ClipImageEncoder encoder, float[][] tensors, List<int> kept, CancellationToken cancellationToken)
    {
        const int Batch = 32;
        int per = encoder.Folder.Preprocess.TensorLength;
        var vectors = new float[kept.Count * encoder.Dimension];
        var batch = new float[Batch * per];
        for (int start = 0; start < kept.Count; start += Batch)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int count = Math.Min(Batch, kept.Count - start);
            for (int j = 0; j < count; j++)
                tensors[kept[start + j]].CopyTo(batch, j * per);
            encoder.Encode(batch, count).CopyTo(vectors, start * encoder.Dimension);
        }
        return vectors;
    }

    /// <summary>The <paramref name="k"/> images of the sample nearest image <paramref name="i"/>, itself left out.</summary>
    static HashSet<int> Neighbours(float[] vectors, int dim, int n, int i, int k)
    {
        ReadOnlySpan<float> query = vectors.AsSpan(i * dim, dim);
        var scores = new (float Score, int Index)[n - 1];
        for (int j = 0, w = 0; j < n; j++)
            if (j != i)
                scores[w++] = (TensorPrimitives.Dot(query, vectors.AsSpan(j * dim, dim)), j);
        return [.. scores.OrderByDescending(s => s.Score).ThenBy(s => s.Index).Take(k).Select(s => s.Index)];
    }
}
