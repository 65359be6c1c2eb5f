using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Search;

// Issue 5, items 4 and 5: the HNSW index beside the catalog, incremental and never stale; near-duplicates.
public class AnnIndexTests : IDisposable
{
    const int Dim = 64;
    readonly TempDir _dir = new();

    /// <summary>Clustered unit vectors, like CLIP embeddings of a photo library (HNSW on uniform noise is meaningless).</summary>
    static float[][] Clustered(int count, int seed, int clusters = 40)
    {
        var random = new Random(seed);
        var centres = Enumerable.Range(0, clusters).Select(_ => Enumerable.Range(0, Dim).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        return Enumerable.Range(0, count).Select(_ =>
        {
            float[] c = centres[random.Next(clusters)];
            var v = c.Select(x => x + (float)(random.NextDouble() - 0.5) * 0.6f).ToArray();
            ClipImageEncoder.NormalizeInPlace(v);
            return v;
        }).ToArray();
    }

    SqliteCatalog CatalogWith(float[][] vectors, int firstName = 0)
    {
        var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "c.db"));
        catalog.BindModel(new ModelIdentity("m", Dim, new string('a', 64), "p"));
        Add(catalog, vectors, firstName);
        return catalog;
    }

    static void Add(SqliteCatalog catalog, float[][] vectors, int firstName) =>
        catalog.Adopt(vectors.Select((v, i) => (new ScannedFile($"p{firstName + i:D6}.jpg", 1, 1), v)).ToList());

    [Fact]
    public void Two_updates_at_once_leave_one_whole_index_with_every_vector()
    {
        // Issue 14, item 8: two processes ending their runs together both update the index. Each
        // handle here is its own connection, as another process's would be.
        using var catalog = CatalogWith(Clustered(600, 1));
        AnnIndex.Update(catalog);
        using var other = new SqliteCatalog(Path.Combine(_dir.Path, "c.db"));
        var errors = new List<Exception>();
        Parallel.For(0, 8, i =>
        {
            try
            {
                if (i % 2 == 0)
                    lock (catalog)
                        Add(catalog, Clustered(50, 100 + i), 10_000 + i * 100);
                AnnIndex.Update(i % 2 == 0 ? catalog : other);
            }
            catch (Exception e)
            {
                lock (errors)
                    errors.Add(e);
            }
        });
        Assert.Empty(errors);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
        var result = AnnIndex.Update(catalog);
        Assert.Equal(catalog.CountDone(), result.Total);
        // Every vector is in the index: each is found among its own five nearest (HNSW is approximate,
        // and under a loaded machine's insert order a neighbour has once ranked above an image itself;
        // a vector lost by an update is never found at all).
        foreach (StoredVector v in catalog.ReadVectors().Take(200))
            Assert.Contains(v.ImageId, AnnIndex.Search(catalog, v.Vector, 5).Select(h => h.ImageId));
    }

    [Fact]
    public void An_opened_index_searches_with_Glimpses_expansion_not_the_bindings_default()
    {
        using var catalog = CatalogWith(Clustered(300, 7));
        AnnIndex.Update(catalog);
        using var view = AnnIndex.View.Open(catalog);
        Assert.Equal(AnnIndex.ExpansionSearch, view.ExpansionSearch);
        using var other = AnnIndex.View.Open(catalog, 48);
        Assert.Equal(48UL, other.ExpansionSearch);
    }

    [Fact]
    public void Ann_results_agree_with_exact_search_on_clustered_vectors()
    {
        var vectors = Clustered(3000, 1);
        using var catalog = CatalogWith(vectors);
        var update = AnnIndex.Update(catalog);
        Assert.True(update.Rebuilt);
        Assert.Equal(3000, update.Total);

        VectorSet set = VectorSet.Load(catalog);
        var queries = Clustered(50, 2);
        double recall = queries.Average(q =>
        {
            var exact = ExactSearch.Search(set, q, 10).Select(h => h.Path).ToHashSet();
            return AnnIndex.Search(catalog, q, 10).Count(h => exact.Contains(h.Path)) / 10.0;
        });
        Assert.True(recall >= 0.9, $"recall@10 {recall:0.00}");

        // Scores are cosine similarities, like exact search's.
        var top = AnnIndex.Search(catalog, vectors[7], 1).Single();
        Assert.Equal("p000007.jpg", top.Path);
        Assert.Equal(1f, top.Score, 3);
    }

    [Fact]
    public void Vectors_added_from_all_cores_in_chunks_are_each_found_as_their_own_nearest()
    {
        // Small chunks: many rounds of reserve-then-add-in-parallel. All 2,300 rows are committed in
        // one millisecond (a fixed clock), so the second update, finding that millisecond grown
        // since the first, re-reads the first 2,000 too and replaces vectors already in the index
        // while adding new ones. A lost or misplaced add (a whole chunk) shows here.
        var vectors = Clustered(2000, 11, clusters: 2000);
        using var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "c.db"), new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20000)));
        catalog.BindModel(new ModelIdentity("m", Dim, new string('a', 64), "p"));
        Add(catalog, vectors, 0);
        Assert.Equal(2000, AnnIndex.Update(catalog, addChunk: 150, threads: Environment.ProcessorCount).Total);

        var more = Clustered(300, 12, clusters: 300);
        Add(catalog, more, 2000);
        var second = AnnIndex.Update(catalog, addChunk: 64, threads: Environment.ProcessorCount);
        Assert.Equal(2300, second.Total);
        Assert.Equal(2300, second.Added); // the 2,000 replaced, the 300 added

        using var view = AnnIndex.View.Open(catalog);
        var all = vectors.Concat(more).ToArray();
        var wrong = Enumerable.Range(0, all.Length)
            .Where(i => view.Search(all[i], 1).Single().Path != $"p{i:D6}.jpg")
            .ToList();
        // HNSW is approximate and the parallel insert order varies: a few misses are its nature, a lost chunk is 64.
        Assert.True(wrong.Count <= 5, $"{wrong.Count} of {all.Length} vectors did not find themselves first");
    }

    [Fact]
    public void Vectors_committed_after_the_last_update_are_found_and_then_added_incrementally()
    {
        using var catalog = CatalogWith(Clustered(500, 3));
        AnnIndex.Update(catalog);
        var fresh = Clustered(20, 4);
        Add(catalog, fresh, 500);

        // Not yet in the index, found anyway by the exact pass over what came after it.
        Assert.Equal("p000505.jpg", AnnIndex.Search(catalog, fresh[5], 1).Single().Path);

        var update = AnnIndex.Update(catalog);
        Assert.False(update.Rebuilt);
        Assert.InRange(update.Added, 20, 520); // what came after the last update, with a minute's overlap
        Assert.Equal(520, update.Total);
    }

    [Fact]
    public void Rows_committed_in_the_last_millisecond_of_an_update_after_it_counted_them_are_still_found()
    {
        // A bulk import commits thousands of rows in one millisecond; searches skip that
        // millisecond's rows (all in the index) unless more were committed in it since the update.
        var clock = new ManualClock(DateTimeOffset.UnixEpoch.AddDays(20000));
        using var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "c.db"), clock);
        catalog.BindModel(new ModelIdentity("m", Dim, new string('a', 64), "p"));
        var bulk = Clustered(300, 5);
        Add(catalog, bulk, 0);
        AnnIndex.Update(catalog);
        Assert.Equal("p000007.jpg", AnnIndex.Search(catalog, bulk[7], 1).Single().Path);

        var late = Clustered(3, 6);
        Add(catalog, late, 300); // the same millisecond, after the update
        Assert.Equal("p000301.jpg", AnnIndex.Search(catalog, late[1], 1).Single().Path);

        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(303, AnnIndex.Update(catalog).Total);
        Assert.Equal("p000302.jpg", AnnIndex.Search(catalog, late[2], 1).Single().Path);
    }

    [Fact]
    public void Removed_images_never_come_back_and_a_model_change_rebuilds()
    {
        var vectors = Clustered(400, 5);
        using var catalog = CatalogWith(vectors);
        AnnIndex.Update(catalog);
        catalog.Forget("p000009.jpg");
        Assert.DoesNotContain(AnnIndex.Search(catalog, vectors[9], 5), h => h.Path == "p000009.jpg");

        string meta = AnnIndex.PathFor(catalog) + ".json";
        File.WriteAllText(meta, File.ReadAllText(meta).Replace(new string('a', 64), new string('b', 64)));
        Assert.False(AnnIndex.IsUsable(catalog));
        Assert.True(AnnIndex.Update(catalog).Rebuilt);
        Assert.Equal(399, AnnIndex.Update(catalog).Total);
    }

    [Fact]
    public void Near_duplicates_are_grouped_the_same_by_exact_and_ann_neighbours()
    {
        var vectors = Clustered(300, 6, clusters: 300).ToList();
        // Plant a group of three near-copies of vector 10 and a pair of copies of vector 20.
        var random = new Random(7);
        float[] Jitter(float[] v) { var c = v.Select(x => x + (float)(random.NextDouble() - 0.5) * 0.02f).ToArray(); ClipImageEncoder.NormalizeInPlace(c); return c; }
        vectors.AddRange([Jitter(vectors[10]), Jitter(vectors[10]), Jitter(vectors[20])]);
        using var catalog = CatalogWith(vectors.ToArray());

        var exact = NearDuplicates.Find(catalog, 0.98f, useAnn: false);
        AnnIndex.Update(catalog);
        var ann = NearDuplicates.Find(catalog, 0.98f, useAnn: true);

        Assert.Equal(2, exact.Count);
        Assert.Equal(["p000010.jpg", "p000300.jpg", "p000301.jpg"], exact[0].Paths);
        Assert.Equal(["p000020.jpg", "p000302.jpg"], exact[1].Paths);
        Assert.True(exact.All(g => g.LowestLink >= 0.98f));
        Assert.Equal(exact.Select(g => g.Paths), ann.Select(g => g.Paths));
    }

    public void Dispose() => _dir.Dispose();
}
