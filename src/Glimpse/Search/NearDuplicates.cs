using Glimpse.Catalog;

namespace Glimpse.Search;

/// <summary>A group of images whose vectors are all linked by similarities of at least the threshold.</summary>
public sealed record DuplicateGroup(IReadOnlyList<string> Paths, float LowestLink);

/// <summary>
/// Groups near-duplicate images (exact copies, re-encodes, resized versions): every pair at or
/// above the threshold is linked, and linked images form a group (union-find). Each image's
/// neighbours come from exact search on small catalogs and from the ANN index on large ones.
/// </summary>
public static class NearDuplicates
{
    /// <summary>Up to this many images, each image's neighbours are found by exact search (N² dot products).</summary>
    public const int ExactUpTo = 5_000;

    /// <summary>Neighbours asked of the ANN index per image: a group larger than this may be split.</summary>
    const int AnnNeighbours = 32;

    public static IReadOnlyList<DuplicateGroup> Find(ICatalog catalog, float threshold, bool useAnn)
    {
        VectorSet set = VectorSet.Load(catalog);
        var parent = Enumerable.Range(0, set.Count).ToArray();
        var lowest = new Dictionary<int, float>();
        var rowOfId = new Dictionary<long, int>();
        for (int i = 0; i < set.Count; i++)
            rowOfId[set.ImageIds[i]] = i;

        // One view for the whole pass; its keys are checked against the set just loaded.
        using AnnIndex.View? view = useAnn ? AnnIndex.View.Open(catalog) : null;
        for (int i = 0; i < set.Count; i++)
        {
            IEnumerable<(int Row, float Score)> neighbours = view is not null
                ? view.Neighbours(set.Row(i).ToArray(), AnnNeighbours)
                    .Where(n => n.Score >= threshold && rowOfId.TryGetValue(n.ImageId, out int row) && row != i)
                    .Select(n => (rowOfId[n.ImageId], n.Score))
                : ExactSearch.Search(set, set.Row(i), set.Count, minScore: threshold, exclude: new HashSet<int> { i }).Select(h => (h.Row, h.Score));
            foreach (var (row, score) in neighbours)
                Union(i, row, score);
        }

        return Enumerable.Range(0, set.Count).GroupBy(Find)
            .Where(g => g.Count() > 1)
            .Select(g => new DuplicateGroup(g.Select(r => set.Paths[r]).Order(StringComparer.Ordinal).ToList(), lowest[g.Key]))
            .OrderByDescending(g => g.Paths.Count).ThenBy(g => g.Paths[0], StringComparer.Ordinal)
            .ToList();

        int Find(int x)
        {
            while (parent[x] != x)
                x = parent[x] = parent[parent[x]];
            return x;
        }

        void Union(int a, int b, float score)
        {
            int ra = Find(a), rb = Find(b);
            float link = Math.Min(score, Math.Min(lowest.GetValueOrDefault(ra, 1f), lowest.GetValueOrDefault(rb, 1f)));
            if (ra != rb)
                parent[rb] = ra;
            lowest[Find(a)] = link;
        }
    }
}
