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
}
