using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Tests.Support;
using Microsoft.Data.Sqlite;

namespace Glimpse.Tests.Catalog;

// Issue 3, items 4 and 7: the catalog's transactions, leases and claim plan, on a real SQLite file.
public class SqliteCatalogTests : IDisposable
{
    static readonly ModelIdentity Model = new("test-model", 4, new string('a', 64), "size=224");
    static readonly TimeSpan Lease = TimeSpan.FromMinutes(2);

    readonly TempDir _dir = new();
    readonly ManualClock _clock = new(DateTimeOffset.UnixEpoch.AddYears(56));

    string DbPath => Path.Combine(_dir.Path, "catalog.db");

    SqliteCatalog Open()
    {
        var catalog = new SqliteCatalog(DbPath, _clock);
        catalog.BindModel(Model);
        return catalog;
    }

    static List<ScannedFile> Files(int count, int size = 100) =>
        Enumerable.Range(0, count).Select(i => new ScannedFile($"a/{i:D5}.jpg", size, 1000 + i)).ToList();

    static float[] Unit(int hot) { var v = new float[4]; v[hot % 4] = 1; return v; }

    [Fact]
    public void Claim_query_walks_the_partial_index_of_unfinished_rows()
    {
        using var catalog = Open();
        catalog.Register(Files(2000));
        using (var db = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            db.Open();
            using var analyze = db.CreateCommand();
            analyze.CommandText = "ANALYZE";
            analyze.ExecuteNonQuery();
        }
        string plan = catalog.ExplainClaimPlan();
        Assert.Contains("images_unfinished", plan);
        Assert.DoesNotContain("SCAN images\n", plan + "\n");
    }

    [Fact]
    public void Commit_gives_dense_unique_embedding_indexes_in_commit_order()
    {
        using var catalog = Open();
        catalog.Register(Files(10));
        const string owner = "me";
        var first = catalog.Claim(owner, 4, Lease);
        var second = catalog.Claim(owner, 6, Lease);
        Assert.Empty(first.Select(c => c.Id).Intersect(second.Select(c => c.Id)));

        // Commit the later claim first: indexes follow commit order, not ids.
        catalog.Commit(owner, second.Select(c => new EmbeddedImage(c.Id, Unit((int)c.Id))).ToList(), []);
        catalog.Commit(owner, first.Select(c => new EmbeddedImage(c.Id, Unit((int)c.Id))).ToList(), []);

        var rows = CatalogReader.ReadAll(DbPath);
        CatalogReader.AssertCompleteAndDense(rows);
        Assert.All(second, c => Assert.True(rows[c.Path].EmbeddingIndex < 6));
        Assert.Equal(10, catalog.ReadVectors().Count());
    }

    [Fact]
    public void A_zombie_whose_lease_expired_and_was_taken_over_changes_nothing()
    {
        using var catalog = Open();
        catalog.Register(Files(3));
        var zombieClaim = catalog.Claim("zombie", 3, Lease);
        _clock.Advance(Lease + TimeSpan.FromSeconds(1));

        var takeover = catalog.Claim("alive", 3, Lease);
        Assert.Equal(zombieClaim.Select(c => c.Id), takeover.Select(c => c.Id));
        catalog.Commit("alive", takeover.Select(c => new EmbeddedImage(c.Id, Unit(0))).ToList(), []);

        var late = catalog.Commit("zombie", zombieClaim.Select(c => new EmbeddedImage(c.Id, Unit(1))).ToList(),
            [new FailedImage(zombieClaim[0].Id, "decode", "late")]);
        Assert.Equal(new CommitResult(0, 0, 4), late);
        Assert.All(catalog.ReadVectors(), v => Assert.Equal(1f, v.Vector[0]));
    }

    [Fact]
    public void Live_leases_are_not_claimed_twice_and_renewal_keeps_them()
    {
        using var catalog = Open();
        catalog.Register(Files(5));
        Assert.Equal(5, catalog.Claim("one", 10, Lease).Count);
        Assert.Empty(catalog.Claim("two", 10, Lease));

        _clock.Advance(Lease - TimeSpan.FromSeconds(5));
        catalog.RenewLeases("one", Lease);
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(catalog.Claim("two", 10, Lease));

        Assert.Equal(5, catalog.ReleaseClaims("one"));
        Assert.Equal(5, catalog.Claim("two", 10, Lease).Count);
    }

    [Fact]
    public void Registering_again_adds_nothing_and_a_changed_file_goes_back_to_pending()
    {
        using var catalog = Open();
        Assert.Equal(new RegisterResult(3, 0), catalog.Register(Files(3)));
        var claimed = catalog.Claim("me", 3, Lease);
        catalog.Commit("me", claimed.Select(c => new EmbeddedImage(c.Id, Unit(2))).ToList(), []);

        Assert.Equal(new RegisterResult(0, 3), catalog.Register(Files(3)));
        var changed = Files(3);
        changed[1] = changed[1] with { Size = 999 };
        Assert.Equal(new RegisterResult(1, 2), catalog.Register(changed));

        var again = catalog.Claim("me", 3, Lease);
        Assert.Equal("a/00001.jpg", Assert.Single(again).Path);
        long oldIndex = CatalogReader.ReadAll(DbPath)["a/00001.jpg"].EmbeddingIndex!.Value;
        catalog.Commit("me", [new EmbeddedImage(again[0].Id, Unit(3))], []);

        // The new vector replaced the old one under the same embedding_index.
        var row = CatalogReader.ReadAll(DbPath)["a/00001.jpg"];
        Assert.Equal(oldIndex, row.EmbeddingIndex);
        Assert.Equal(1f, row.Vector![3]);
        Assert.Equal(3, catalog.ReadVectors().Count());
    }

    [Fact]
    public void Failures_are_recorded_with_stage_and_reason_and_not_retried_until_asked()
    {
        using var catalog = Open();
        catalog.Register(Files(2));
        var claimed = catalog.Claim("me", 2, Lease);
        catalog.Commit("me", [new EmbeddedImage(claimed[0].Id, Unit(0))], [new FailedImage(claimed[1].Id, "decode", "truncated JPEG")]);

        Assert.Equal(new FailedEntry("a/00001.jpg", "decode", "truncated JPEG", 1), Assert.Single(catalog.ListFailed()));
        catalog.Register(Files(2));
        Assert.Empty(catalog.Claim("me", 2, Lease));
        Assert.False(catalog.HasUnfinished());

        Assert.Equal(1, catalog.ResetFailed());
        Assert.Single(catalog.Claim("me", 2, Lease));
    }

    [Fact]
    public void A_catalog_of_another_model_is_refused_with_a_way_out()
    {
        using (Open()) { }
        using var catalog = new SqliteCatalog(DbPath, _clock);
        var e = Assert.Throws<CatalogException>(() => catalog.BindModel(Model with { VisualSha256 = new string('b', 64), Name = "other" }));
        Assert.Contains("--catalog", e.Message);
        Assert.Contains("test-model", e.Message);
        catalog.BindModel(Model with { Name = "renamed folder" }); // same weights: accepted
    }

    [Fact]
    public void A_catalog_from_a_newer_glimpse_is_refused()
    {
        using (Open()) { }
        using (var db = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            db.Open();
            using var cmd = db.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<CatalogException>(() => new SqliteCatalog(DbPath, _clock));
        Assert.Contains("Upgrade Glimpse", e.Message);
    }

    [Fact]
    public void Vectors_with_NaN_or_the_wrong_dimension_are_refused_and_nothing_is_stored()
    {
        using var catalog = Open();
        catalog.Register(Files(2));
        var claimed = catalog.Claim("me", 2, Lease);
        Assert.Throws<ArgumentException>(() => catalog.Commit("me",
            [new EmbeddedImage(claimed[0].Id, Unit(0)), new EmbeddedImage(claimed[1].Id, [float.NaN, 0, 0, 0])], []));
        Assert.Throws<ArgumentException>(() => catalog.Commit("me", [new EmbeddedImage(claimed[0].Id, new float[5])], []));
        Assert.Empty(catalog.ReadVectors());
    }

    public void Dispose() => _dir.Dispose();
}
