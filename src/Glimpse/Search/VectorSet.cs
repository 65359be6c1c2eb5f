using Glimpse.Catalog;

namespace Glimpse.Search;

/// <summary>
/// Every committed vector of a catalog, in blocks of <see cref="DefaultRowsPerBlock"/> contiguous
/// rows (row i = <see cref="Paths"/>[i]): the layout exact search scans at memory speed. Blocks,
/// not one array, because one .NET array holds at most 2^31 floats (4.2 million 512-d vectors),
/// and offsets are computed in 64 bits. Loaded from one consistent snapshot, so a search during
/// indexing sees every batch committed before it started.
/// </summary>
public sealed class VectorSet : IVectorRows
{
    /// <summary>Rows per block: 64 Ki rows of 512 floats are 128 MB, far from any array limit.</summary>
    public const int DefaultRowsPerBlock = 1 << 16;

    readonly List<float[]> _blocks;
    readonly int _rowsPerBlock;

    VectorSet(List<float[]> blocks, int rowsPerBlock, int dimension, long[] imageIds, string[] paths)
    {
        _blocks = blocks;
        _rowsPerBlock = rowsPerBlock;
        Dimension = dimension;
        ImageIds = imageIds;
        Paths = paths;
    }

    public int Dimension { get; }
    public long[] ImageIds { get; }
    public string[] Paths { get; }
    public int Count => Paths.Length;

    public ReadOnlySpan<float> Row(int i)
    {
        var (block, offset) = Locate(i, Dimension, _rowsPerBlock);
        return _blocks[block].AsSpan(offset, Dimension);
    }

    /// <summary>The block of row <paramref name="row"/> and the offset of its first float there, in 64-bit arithmetic.</summary>
    internal static (int Block, int Offset) Locate(long row, int dimension, int rowsPerBlock) =>
        ((int)(row / rowsPerBlock), checked((int)(row % rowsPerBlock * dimension)));

    public static VectorSet Load(ICatalog catalog) => Load(catalog, DefaultRowsPerBlock);

    internal static VectorSet Load(ICatalog catalog, int rowsPerBlock)
    {
        int dim = catalog.Model?.Dimension ?? 0;
        long expected = catalog.CountDone();
        var ids = new List<long>((int)Math.Min(expected, int.MaxValue));
        var paths = new List<string>((int)Math.Min(expected, int.MaxValue));
        var blocks = new List<float[]>();
        foreach (StoredVector v in catalog.ReadVectors())
        {
            if (v.Vector.Length != dim)
                continue; // verify reports these; search skips them
            var (block, offset) = Locate(ids.Count, dim, rowsPerBlock);
            if (block == blocks.Count)
                blocks.Add(new float[(long)Math.Min(rowsPerBlock, Math.Max(expected - (long)block * rowsPerBlock, 16)) * dim]);
            if (offset + dim > blocks[block].Length)
            {
                // More rows arrived than counted at the start (an index run commits meanwhile).
                float[] grown = blocks[block];
                Array.Resize(ref grown, (int)Math.Min((long)rowsPerBlock * dim, Math.Max(grown.Length * 2L, offset + dim)));
                blocks[block] = grown;
            }
            v.Vector.CopyTo(blocks[block], offset);
            ids.Add(v.ImageId);
            paths.Add(v.Path);
        }
        return new VectorSet(blocks, rowsPerBlock, dim, ids.ToArray(), paths.ToArray());
    }

    /// <summary>A set from vectors in memory (tests, benchmarks).</summary>
    public static VectorSet FromVectors(float[] data, int dimension, string[] paths, int rowsPerBlock = DefaultRowsPerBlock)
    {
        var blocks = new List<float[]>();
        for (long first = 0; first < paths.Length; first += rowsPerBlock)
        {
            long rows = Math.Min(rowsPerBlock, paths.Length - first);
            blocks.Add(data.AsSpan((int)(first * dimension), (int)(rows * dimension)).ToArray());
        }
        return new(blocks, rowsPerBlock, dimension, Enumerable.Range(0, paths.Length).Select(i => (long)i).ToArray(), paths);
    }
}
