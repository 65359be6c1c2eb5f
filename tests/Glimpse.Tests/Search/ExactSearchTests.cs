using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Tests.Search;

// Issue 5, items 2 and 3: ranking of known vectors, equality with a naive reference, query parsing.
public class ExactSearchTests
{
    static float[] RandomUnitVectors(int count, int dim, int seed)
    {
        var random = new Random(seed);
        var data = new float[count * dim];
        for (int i = 0; i < data.Length; i++)
            data[i] = (float)(random.NextDouble() * 2 - 1);
        for (int i = 0; i < count; i++)
            ClipImageEncoder.NormalizeInPlace(data.AsSpan(i * dim, dim));
        return data;
    }

    [Fact]
    public void Planted_vectors_come_back_in_order_with_their_scores()
    {
        const int dim = 8;
        // Rows at known angles from the query e0: cos = 1, 0.8, 0.6, 0 and -1.
        float[] data =
        [
            0, 1, 0, 0, 0, 0, 0, 0,
            0.6f, 0.8f, 0, 0, 0, 0, 0, 0,
            1, 0, 0, 0, 0, 0, 0, 0,
            -1, 0, 0, 0, 0, 0, 0, 0,
            0.8f, 0, 0.6f, 0, 0, 0, 0, 0,
        ];
        var set = VectorSet.FromVectors(data, dim, ["zero", "point6", "one", "minus", "point8"]);
        float[] query = [1, 0, 0, 0, 0, 0, 0, 0];

        var hits = ExactSearch.Search(set, query, limit: 3);
        Assert.Equal(["one", "point8", "point6"], hits.Select(h => h.Path));
        Assert.Equal([1f, 0.8f, 0.6f], hits.Select(h => MathF.Round(h.Score, 5)));

        Assert.Equal(["point6", "zero"], ExactSearch.Search(set, query, limit: 2, offset: 2).Select(h => h.Path));
        Assert.Equal(["one", "point8"], ExactSearch.Search(set, query, limit: 10, minScore: 0.7f).Select(h => h.Path));
        Assert.Equal(["point8"], ExactSearch.Search(set, query, limit: 1, exclude: new HashSet<int> { 2 }).Select(h => h.Path));
    }

    [Fact]
    public void Results_equal_a_naive_reference_across_many_parallel_chunks()
    {
        const int dim = 64, count = 50_000;
        float[] data = RandomUnitVectors(count, dim, 1);
        var set = VectorSet.FromVectors(data, dim, Enumerable.Range(0, count).Select(i => $"img{i}").ToArray());
        float[] query = RandomUnitVectors(1, dim, 2);

        var expected = Enumerable.Range(0, count)
            .Select(i => (Row: i, Score: Enumerable.Range(0, dim).Sum(k => (double)data[i * dim + k] * query[k])))
            .OrderByDescending(x => x.Score).Take(25).ToList();
        var hits = ExactSearch.Search(set, query, limit: 25);

        Assert.Equal(expected.Select(e => e.Row), hits.Select(h => h.Row));
        for (int i = 0; i < hits.Count; i++)
            Assert.Equal(expected[i].Score, hits[i].Score, 4);
    }

    [Fact]
    public void Combined_queries_parse_into_signed_weighted_terms()
    {
        var terms = QueryTerm.Parse(["dog", "+", "beach.jpg", "-", "2:people in a crowd"], p => p.EndsWith(".jpg"));
        Assert.Equal(
            [new QueryTerm(1, "dog", false), new QueryTerm(1, "beach.jpg", true), new QueryTerm(-2, "people in a crowd", false)],
            terms);
        Assert.Equal([new QueryTerm(1, "a dog on a well-lit beach", false)], QueryTerm.Parse(["a dog on a well-lit beach"], _ => false));
    }

    [Fact]
    public void Rows_across_block_boundaries_search_as_one_array_and_offsets_are_64_bit()
    {
        // Issue 14, item 8: one array holds at most 2^31 floats (4.2 million 512-d vectors); the set
        // is kept in blocks. Tiny blocks here put every boundary case in a few rows.
        const int dim = 8, count = 101;
        var random = new Random(3);
        var data = Enumerable.Range(0, count * dim).Select(_ => (float)random.NextDouble() - 0.5f).ToArray();
        string[] paths = Enumerable.Range(0, count).Select(i => $"img{i}").ToArray();
        var whole = VectorSet.FromVectors(data, dim, paths);
        var blocked = VectorSet.FromVectors(data, dim, paths, rowsPerBlock: 3);
        for (int i = 0; i < count; i++)
            Assert.Equal(whole.Row(i).ToArray(), blocked.Row(i).ToArray());
        float[] query = data.AsSpan(17 * dim, dim).ToArray();
        Assert.Equal(ExactSearch.Search(whole, query, 20).Select(h => h.Path), ExactSearch.Search(blocked, query, 20).Select(h => h.Path));

        // Row 5,000,000 of 512-d vectors starts at float 2,560,000,000: past int.MaxValue.
        Assert.True(5_000_000L * 512 > int.MaxValue);
        var (block, offset) = VectorSet.Locate(5_000_000, 512, VectorSet.DefaultRowsPerBlock);
        Assert.Equal(5_000_000 / VectorSet.DefaultRowsPerBlock, block);
        Assert.Equal(5_000_000 % VectorSet.DefaultRowsPerBlock * 512, offset);
    }
}
