using System.Numerics.Tensors;

namespace Glimpse.Search;

/// <summary>
/// Brute-force cosine search: a SIMD dot product (<see cref="TensorPrimitives.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>)
/// with every stored unit vector, split across all cores, each keeping its own top-k heap, merged
/// at the end. Memory-bound: a million 512-d vectors are 2 GB scanned per query.
/// </summary>
public static class ExactSearch
{
    /// <summary>Rows per parallel task: large enough to amortise scheduling, small enough to balance cores.</summary>
    const int RowsPerTask = 16_384;

    public static IReadOnlyList<SearchHit> Search(VectorSet set, ReadOnlySpan<float> query, int limit, int offset = 0,
        float minScore = float.NegativeInfinity, ISet<int>? exclude = null) =>
        Rank(set, query, limit + offset, minScore, exclude is null ? null : exclude.Contains)
            .Skip(offset).Take(limit)
            .Select(h => new SearchHit(set.Paths[h.Row], h.Row, h.Score))
            .ToList();

    /// <summary>The <paramref name="keep"/> best rows, best first (ties by row), each at least <paramref name="minScore"/>.</summary>
    /// <param name="excluded">Rows never to return (the query image itself), or null.</param>
    internal static List<(int Row, float Score)> Rank(IVectorRows rows, ReadOnlySpan<float> query, int keep,
        float minScore = float.NegativeInfinity, Func<int, bool>? excluded = null)
    {
        if (query.Length != rows.Dimension)
            throw new ArgumentException($"The query has {query.Length} dimensions; the catalog's vectors have {rows.Dimension}.");
        if (keep <= 0 || rows.Count == 0)
            return [];

        float[] q = query.ToArray();
        int count = rows.Count;
        int tasks = (count + RowsPerTask - 1) / RowsPerTask;
        var partial = new (int Row, float Score)[tasks][];
        Parallel.For(0, tasks, t =>
        {
            int start = t * RowsPerTask, end = Math.Min(count, start + RowsPerTask);
            var heap = new PriorityQueue<int, float>(keep + 1); // min-heap on score: the weakest on top
            for (int i = start; i < end; i++)
            {
                float score = TensorPrimitives.Dot(rows.Row(i), q);
                if (score < minScore || (excluded?.Invoke(i) ?? false))
                    continue;
                if (heap.Count < keep)
                    heap.Enqueue(i, score);
                else if (heap.TryPeek(out _, out float weakest) && score > weakest)
                    heap.DequeueEnqueue(i, score);
            }
            var local = new (int, float)[heap.Count];
            int n = 0;
            while (heap.TryDequeue(out int row, out float s))
                local[n++] = (row, s);
            partial[t] = local;
        });

        return partial.SelectMany(p => p).OrderByDescending(h => h.Score).ThenBy(h => h.Row).Take(keep).ToList();
    }
}
