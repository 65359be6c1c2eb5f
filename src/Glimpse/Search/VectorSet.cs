using Glimpse.Catalog;

namespace Glimpse.Search;

/// <summary>
/// Every committed vector of a catalog in one contiguous array (row i = <see cref="Paths"/>[i]),
/// the layout exact search scans at memory speed. Loaded from one consistent snapshot, so a search
/// during indexing sees every batch committed before it started.
/// </summary>
public sealed class VectorSet
{
    VectorSet(float[] data, int dimension, long[] imageIds, string[] paths)
    {
        Data = data;
        Dimension = dimension;
        ImageIds = imageIds;
        Paths = paths;
    }

    public float[] Data { get; }
    public int Dimension { get; }
    public long[] ImageIds { get; }
    public string[] Paths { get; }
    public int Count => Paths.Length;

    public ReadOnlySpan<float> Row(int i) => Data.AsSpan(i * Dimension, Dimension);

    public static VectorSet Load(ICatalog catalog)
    {
        int dim = catalog.Model?.Dimension ?? 0;
        long expected = catalog.CountDone();
        var data = new float[Math.Max(expected, 16) * Math.Max(dim, 1)];
        var ids = new List<long>((int)expected);
        var paths = new List<string>((int)expected);
        foreach (StoredVector v in catalog.ReadVectors())
        {
            if (v.Vector.Length != dim)
                continue; // verify reports these; search skips them
            if ((ids.Count + 1) * dim > data.Length)
                Array.Resize(ref data, data.Length * 2);
            v.Vector.CopyTo(data, ids.Count * dim);
            ids.Add(v.ImageId);
            paths.Add(v.Path);
        }
        return new VectorSet(data, dim, ids.ToArray(), paths.ToArray());
    }

    /// <summary>A set from vectors in memory (tests, benchmarks).</summary>
    public static VectorSet FromVectors(float[] data, int dimension, string[] paths) =>
        new(data, dimension, Enumerable.Range(0, paths.Length).Select(i => (long)i).ToArray(), paths);
}
