using Glimpse.Catalog;
using Glimpse.Search;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Search;

// Issue 15, item 4: the memory-mapped vector file a fresh search reads: kept current from
// commits, rebuilt when stale, always giving what exact search over the catalog gives.
public class VectorFileTests : IDisposable
{
    const int Dim = 32;
    readonly TempDir _dir = new();
    readonly Random _random = new(5);

    SqliteCatalog NewCatalog()
    {
        var catalog = new SqliteCatalog(Path.Combine(_dir.Path, "c.db"));
        catalog.BindModel(new ModelIdentity("m", Dim, new string('a', 64), "p"));
        return catalog;
    }

    void Add(ICatalog catalog, int first, int count) =>
        catalog.Adopt(Enumerable.Range(first, count).Select(i => (new ScannedFile($"p{i:D5}.jpg", 1, 1), Vectors.RandomUnit(_random, Dim))).ToList());

    /// <summary>Puts a file's row back to pending (changed on disk) and commits <paramref name="vector"/> for it, as a rescan and run would.</summary>
    static void Reembed(ICatalog catalog, string path, float[] vector)
    {
        catalog.Register([new ScannedFile(path, 2, 2)]);
        var claimed = catalog.Claim("w", 100, TimeSpan.FromMinutes(1));
        var mine = claimed.Single(c => c.Path == path);
        Assert.Equal(1, catalog.Commit("w", [new EmbeddedImage(mine.Id, vector)], []).Done);
    }

    /// <summary>The vector file's answer and the in-memory exact answer, for a few queries: the same images in the same order.</summary>
    static void AssertSameAsInMemory(ICatalog catalog, IEnumerable<float[]> queries)
    {
        VectorSet set = VectorSet.Load(catalog);
        using var view = VectorFile.Open(catalog);
        Assert.Equal(set.Count, view.Count);
        foreach (float[] q in queries)
        {
            var expected = ExactSearch.Search(set, q, 10).Select(h => (h.Path, h.Score));
            var actual = view.Search(catalog, q, 10).Select(h => (h.Path, h.Score));
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void A_new_file_gives_exactly_what_exact_search_over_the_catalog_gives()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 3000);
        using (VectorFile.Open(catalog, out var sync))
        {
            Assert.True(sync.Rebuilt);
            Assert.Equal(3000, sync.Rows);
        }
        AssertSameAsInMemory(catalog, Enumerable.Range(0, 5).Select(_ => Vectors.RandomUnit(_random, Dim)));
    }

    [Fact]
    public void New_commits_are_appended_without_a_rebuild_and_found()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 500);
        VectorFile.Open(catalog).Dispose();
        Thread.Sleep(5); // a later commit time than the file covers
        Add(catalog, 500, 40);
        using (var view = VectorFile.Open(catalog, out var sync))
        {
            Assert.False(sync.Rebuilt);
            Assert.Equal(40, sync.Appended);
            Assert.Equal(540, view.Count);
            StoredVector fresh = catalog.FindDone("p00520.jpg")!;
            var top = view.Search(catalog, fresh.Vector, 1).Single();
            Assert.Equal("p00520.jpg", top.Path);
            Assert.Equal(fresh.ImageId, top.ImageId);
        }
        // Nothing new: nothing written.
        using (VectorFile.Open(catalog, out var again))
            Assert.Equal((false, 0L), (again.Rebuilt, again.Appended));
    }

    [Fact]
    public void A_reembedded_image_rebuilds_the_file_and_is_found_by_its_new_vector_only()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 300);
        float[] old = catalog.FindDone("p00100.jpg")!.Vector;
        VectorFile.Open(catalog).Dispose();

        float[] updated = Vectors.RandomUnit(_random, Dim);
        Reembed(catalog, "p00100.jpg", updated);
        using (var view = VectorFile.Open(catalog, out var sync))
        {
            Assert.True(sync.Rebuilt);
            Assert.Equal(300, view.Count);
            Assert.Equal(1f, view.Search(catalog, updated, 1).Single().Score, 4);
            Assert.Equal("p00100.jpg", view.Search(catalog, updated, 1).Single().Path);
            Assert.NotEqual("p00100.jpg", view.Search(catalog, old, 1).Single().Path);
        }
        AssertSameAsInMemory(catalog, [old, updated]);
    }

    [Fact]
    public void Images_gone_from_the_library_leave_the_file_and_the_results()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 200);
        VectorFile.Open(catalog).Dispose();
        float[] goneVector = catalog.FindDone("p00007.jpg")!.Vector;

        // A rescan that no longer finds p00000..p00009: they become missing, not done.
        catalog.BeginScan();
        catalog.Register(Enumerable.Range(10, 190).Select(i => new ScannedFile($"p{i:D5}.jpg", 1, 1)).ToList());
        Assert.Equal(10, catalog.CompleteScan([], allowMassDelete: true).NewlyMissing);

        using (var view = VectorFile.Open(catalog, out var sync))
        {
            Assert.True(sync.Rebuilt);
            Assert.Equal(190, view.Count);
            Assert.DoesNotContain(view.Search(catalog, goneVector, 5), h => h.Path == "p00007.jpg");
        }
        AssertSameAsInMemory(catalog, [goneVector]);
    }

    [Fact]
    public void A_torn_or_foreign_file_is_rebuilt_not_trusted()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 100);
        VectorFile.Open(catalog).Dispose();
        string path = VectorFile.PathFor(catalog);

        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
        {
            file.Position = 20; // inside the header: its checksum no longer holds
            file.WriteByte(0x7f);
        }
        using (VectorFile.Open(catalog, out var sync))
            Assert.True(sync.Rebuilt);

        // Cut short: the header's row count is more than the file holds.
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write))
            file.SetLength(file.Length - 10);
        using (VectorFile.Open(catalog, out var sync))
            Assert.True(sync.Rebuilt);
        AssertSameAsInMemory(catalog, [Vectors.RandomUnit(_random, Dim)]);
    }

    [Fact]
    public void Searches_and_commits_at_once_never_see_a_broken_file()
    {
        using var catalog = NewCatalog();
        Add(catalog, 0, 400);
        string db = Path.Combine(_dir.Path, "c.db");
        var errors = new List<Exception>();
        Parallel.For(0, 12, i =>
        {
            try
            {
                // Each its own connection, as another process's would be.
                using var mine = new SqliteCatalog(db);
                if (i % 3 == 0)
                    Add(mine, 1000 + i * 50, 50);
                using var view = VectorFile.Open(mine);
                StoredVector probe = mine.FindDone("p00123.jpg")!;
                Assert.Equal("p00123.jpg", view.Search(mine, probe.Vector, 1).Single().Path);
            }
            catch (Exception e)
            {
                lock (errors)
                    errors.Add(e);
            }
        });
        Assert.Empty(errors);
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
        AssertSameAsInMemory(catalog, [Vectors.RandomUnit(_random, Dim)]);
    }

    public void Dispose() => _dir.Dispose();
}
