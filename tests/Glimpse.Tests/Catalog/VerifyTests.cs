using Glimpse.Catalog;
using Glimpse.Indexing;
using Glimpse.Models;
using Glimpse.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Glimpse.Tests.Catalog;

// Issue 4, item 3: a copy of a real catalog corrupted in each way, and verify reports each.
public class VerifyTests : IClassFixture<VerifyTests.IndexedLibrary>, IDisposable
{
    readonly IndexedLibrary _library;
    readonly TempDir _dir = new();

    public VerifyTests(IndexedLibrary library) => _library = library;

    /// <summary>One small library indexed once; each test corrupts its own copy of the catalog.</summary>
    public sealed class IndexedLibrary : IDisposable
    {
        readonly TempDir _dir = new();

        public IndexedLibrary()
        {
            string root = _dir.Sub("lib");
            TestImages.Write(root, 10);
            Catalog = Path.Combine(_dir.Path, "catalog.db");
            using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
            using var catalog = new SqliteCatalog(Catalog);
            new IndexingPipeline(catalog, encoder, new IndexingOptions { BatchSize = 4 })
                .RunAsync(root, null, CancellationToken.None).GetAwaiter().GetResult();
        }

        public string Catalog { get; }

        public void Dispose() => _dir.Dispose();
    }

    VerifyReport VerifyCopy(string corruptSql)
    {
        string copy = Path.Combine(_dir.Path, "copy.db");
        File.Copy(_library.Catalog, copy);
        using (var db = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = corruptSql;
            cmd.ExecuteNonQuery();
        }
        using var catalog = new SqliteCatalog(copy);
        return catalog.Verify();
    }

    static void AssertReported(VerifyReport report, string check)
    {
        Assert.False(report.Ok);
        Assert.Contains(report.Problems, p => p.Check == check && p.Count > 0);
    }

    [Fact]
    public void A_sound_catalog_verifies_ok()
    {
        using var catalog = new SqliteCatalog(_library.Catalog);
        var report = catalog.Verify();
        Assert.True(report.Ok, string.Join("; ", report.Problems));
        Assert.Equal(10, report.Vectors);
    }

    [Fact]
    public void Duplicate_embedding_index_is_reported()
    {
        // The schema forbids duplicates, as an old or hand-edited catalog may not: lift the rule first.
        VerifyCopy("""
            PRAGMA writable_schema = ON;
            UPDATE sqlite_master SET sql = replace(sql, 'embedding_index INTEGER UNIQUE', 'embedding_index INTEGER') WHERE name = 'images';
            DELETE FROM sqlite_master WHERE name = 'sqlite_autoindex_images_2';
            """);
        AssertReported(VerifyAfter("UPDATE images SET embedding_index = 0 WHERE embedding_index = 1"), "duplicate embedding_index");
    }

    /// <summary>Changes the copy made by the last <see cref="VerifyCopy"/> again, on a fresh connection, and verifies it.</summary>
    VerifyReport VerifyAfter(string sql)
    {
        string copy = Path.Combine(_dir.Path, "copy.db");
        using (var db = new SqliteConnection($"Data Source={copy};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = sql;
            cmd.ExecuteNonQuery();
        }
        using var catalog = new SqliteCatalog(copy);
        return catalog.Verify();
    }

    [Fact]
    public void A_hole_in_embedding_index_is_reported() =>
        AssertReported(VerifyCopy("UPDATE images SET embedding_index = 5000 WHERE embedding_index = 3"), "non-dense embedding_index");

    [Fact]
    public void Holes_left_by_forget_are_not_a_problem()
    {
        string copy = Path.Combine(_dir.Path, "copy.db");
        File.Copy(_library.Catalog, copy);
        using var catalog = new SqliteCatalog(copy);
        Assert.Equal(1, catalog.Forget("album1/img0005.png"));
        Assert.True(catalog.Verify().Ok);
    }

    [Fact]
    public void A_done_row_without_its_vector_is_reported() =>
        AssertReported(VerifyCopy("PRAGMA foreign_keys = OFF; DELETE FROM vectors WHERE image_id = 2"), "done without a vector");

    [Fact]
    public void A_vector_without_its_row_is_reported() =>
        AssertReported(VerifyCopy("PRAGMA foreign_keys = OFF; DELETE FROM images WHERE id = 2"), "vector without an image");

    [Fact]
    public void A_vector_of_the_wrong_dimension_is_reported() =>
        AssertReported(VerifyCopy("UPDATE vectors SET vector = substr(vector, 1, 1024) WHERE image_id = 3"), "wrong dimension");

    [Fact]
    public void A_non_finite_vector_is_reported() =>
        AssertReported(VerifyCopy("UPDATE vectors SET vector = x'0000C07F' || substr(vector, 5) WHERE image_id = 4"), "non-finite vector");

    [Fact]
    public void A_non_normalised_vector_is_reported() =>
        AssertReported(VerifyCopy("UPDATE vectors SET vector = unhex(replace(hex(zeroblob(512)), '00', '0000803F')) WHERE image_id = 6"), "not normalised");

    [Fact]
    public void A_vector_of_another_model_is_reported() =>
        AssertReported(VerifyCopy("UPDATE vectors SET vector = vector || vector WHERE image_id = 5"), "wrong dimension");

    [Fact]
    public void A_damaged_file_fails_the_integrity_check()
    {
        string copy = Path.Combine(_dir.Path, "copy.db");
        File.Copy(_library.Catalog, copy);
        using (var f = new FileStream(copy, FileMode.Open))
        {
            // Page 3 onwards holds table b-trees; scribble over one page's header.
            f.Position = 16384 * 2 + 8;
            f.Write(new byte[64].Select((_, i) => (byte)(0xA5 ^ i)).ToArray());
        }
        var (code, stdout, _) = CliProcess.Run(["verify", "--catalog", copy, "--json"]);
        Assert.Equal(1, code);
        var json = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.False(json.GetProperty("ok").GetBoolean());
    }

    public void Dispose() => _dir.Dispose();
}
