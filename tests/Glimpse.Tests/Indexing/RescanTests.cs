using Glimpse.Catalog;
using Glimpse.Indexing;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Indexing;

// Issue 4, items 1, 2 and 6: rescans of a changing library, offline-root safety, prune and forget.
public class RescanTests : IDisposable
{
    readonly TempDir _dir = new();

    static IndexRunSummary Index(string root, IndexingOptions? options = null)
    {
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), intraOpThreads: 2);
        using var catalog = new SqliteCatalog(CatalogOf(root));
        var pipeline = new IndexingPipeline(catalog, encoder, options ?? new IndexingOptions { BatchSize = 8 });
        return pipeline.RunAsync(root, Path.Combine(root, ".glimpse"), CancellationToken.None).GetAwaiter().GetResult();
    }

    static string CatalogOf(string root) => Path.Combine(root, ".glimpse", "catalog.db");

    [Fact]
    public void An_unchanged_rescan_does_no_work_and_writes_nothing()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 12);
        Index(root);
        byte[] before = File.ReadAllBytes(CatalogOf(root));

        Assert.Equal(new IndexRunSummary(0, 0, 0, false), Index(root));
        Assert.Equal(before, File.ReadAllBytes(CatalogOf(root)));
        Assert.All(CatalogReader.ReadAll(CatalogOf(root)).Values, r => Assert.Equal(1, r.Attempts));
    }

    [Fact]
    public void A_moved_file_reuses_its_vector_and_a_deleted_one_is_kept_as_missing_until_prune()
    {
        string root = _dir.Sub("lib");
        var files = TestImages.Write(root, 12);
        Index(root);
        var first = CatalogReader.ReadAll(CatalogOf(root));

        // Move one file to a new folder, copy another, delete a third.
        Directory.CreateDirectory(Path.Combine(root, "moved"));
        File.Move(files[0], Path.Combine(root, "moved", "renamed.jpg"));
        File.Copy(files[1], Path.Combine(root, "moved", "copy.jpg"));
        File.Delete(files[2]);

        var summary = Index(root);
        Assert.Equal(2, summary.Done);
        Assert.Equal(2, summary.Reused);
        Assert.Equal(2, summary.Missing); // the moved file's old path and the deleted one

        var rows = CatalogReader.ReadAll(CatalogOf(root));
        string rel(string full) => Path.GetRelativePath(root, full).Replace('\\', '/');
        Assert.Equal(first[rel(files[0])].Vector, rows["moved/renamed.jpg"].Vector);
        Assert.Equal(first[rel(files[1])].Vector, rows["moved/copy.jpg"].Vector);
        Assert.Equal(4, rows[rel(files[0])].Status);
        Assert.Equal(4, rows[rel(files[2])].Status);

        using (var catalog = new SqliteCatalog(CatalogOf(root)))
        {
            Assert.Equal(2, catalog.PruneMissing());
            Assert.Equal(12, catalog.ReadVectors().Count());
        }
        Assert.Equal(12, CatalogReader.ReadAll(CatalogOf(root)).Count);
    }

    [Fact]
    public void A_missing_file_that_comes_back_unchanged_is_done_again_without_inference()
    {
        string root = _dir.Sub("lib");
        var files = TestImages.Write(root, 12);
        Index(root);
        string aside = Path.Combine(_dir.Path, "aside.jpg");
        File.Move(files[5], aside);
        Assert.Equal(1, Index(root).Missing);
        File.Move(aside, files[5]);

        var summary = Index(root);
        Assert.Equal(0, summary.Done);
        var rows = CatalogReader.ReadAll(CatalogOf(root));
        CatalogReader.AssertCompleteAndDense(rows);
    }

    [Fact]
    public void A_changed_file_is_embedded_again_under_the_same_index()
    {
        string root = _dir.Sub("lib");
        var files = TestImages.Write(root, 6);
        Index(root);
        string rel = Path.GetRelativePath(root, files[3]).Replace('\\', '/');
        var before = CatalogReader.ReadAll(CatalogOf(root))[rel];

        TestImages.WriteOne(files[3], 120, 90, new Random(99));
        File.SetLastWriteTimeUtc(files[3], DateTime.UtcNow.AddMinutes(5));
        var summary = Index(root);

        Assert.Equal((1, 0L), (summary.Done, summary.Reused));
        var after = CatalogReader.ReadAll(CatalogOf(root));
        Assert.Equal(before.EmbeddingIndex, after[rel].EmbeddingIndex);
        Assert.NotEqual(before.Vector, after[rel].Vector);
        CatalogReader.AssertCompleteAndDense(after);
    }

    [Fact]
    public void An_empty_or_unmounted_root_is_refused_instead_of_marking_everything_gone()
    {
        string root = _dir.Sub("lib");
        var files = TestImages.Write(root, 12);
        Index(root);
        foreach (string d in Directory.EnumerateDirectories(root).Where(d => !d.EndsWith(".glimpse")))
            Directory.Delete(d, recursive: true);

        var e = Assert.Throws<CatalogException>(() => Index(root));
        Assert.Contains("--allow-mass-delete", e.Message);
        Assert.All(CatalogReader.ReadAll(CatalogOf(root)).Values, r => Assert.Equal(2, r.Status));

        Assert.Equal(12, Index(root, new IndexingOptions { AllowMassDelete = true }).Missing);
    }

    [Fact]
    public void A_whole_folder_that_vanished_is_refused_but_scattered_deletions_are_not()
    {
        using var dir = new TempDir();
        using var catalog = new SqliteCatalog(Path.Combine(dir.Path, "c.db"));
        catalog.BindModel(new ModelIdentity("m", 4, new string('a', 64), "p"));
        var all = Enumerable.Range(0, 30).Select(i => new ScannedFile($"{(i < 10 ? "nas" : "local")}/{i}.jpg", 1, 1)).ToList();
        catalog.BeginScan();
        catalog.Register(all);
        catalog.CompleteScan([], allowMassDelete: false, massDeleteThreshold: 5);

        catalog.BeginScan();
        catalog.Register(all.Skip(10).ToList()); // the whole 'nas' folder is gone
        var e = Assert.Throws<CatalogException>(() => catalog.CompleteScan([], allowMassDelete: false, massDeleteThreshold: 5));
        Assert.Contains("'nas'", e.Message);

        catalog.BeginScan();
        catalog.Register(all.Where((_, i) => i % 10 != 3).ToList()); // one file from each folder
        Assert.Equal(new ScanCompletion(3), catalog.CompleteScan([], allowMassDelete: false, massDeleteThreshold: 5));

        catalog.BeginScan();
        catalog.Register(all.Skip(10).ToList());
        Assert.Equal(new ScanCompletion(0), catalog.CompleteScan(["nas"], allowMassDelete: false, massDeleteThreshold: 5)); // unreadable, not gone
    }

    [Fact]
    public void Forget_drops_entries_by_path_folder_or_glob()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 12);
        Index(root);
        using var catalog = new SqliteCatalog(CatalogOf(root));
        Assert.Equal(1, catalog.Forget("album0/img0000.jpg"));
        Assert.Equal(3, catalog.Forget("album1")); // img0001.jpg, img0005.png, img0009.jpg
        Assert.Equal(2, catalog.Forget("album2/*.png") + catalog.Forget("album3/img0003.jpg") + catalog.Forget("nothing/*"));
        Assert.Equal(12 - 6, catalog.ReadVectors().Count());
    }

    public void Dispose() => _dir.Dispose();
}
