using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Catalog;

// Issue 8, items 2 and 4: one contract, two back-ends. Every test runs on a real SQLite file and,
// where ./test started one, on a real PostgreSQL server (a library of its own per test).
public class CatalogContractTests : IDisposable
{
    static readonly ModelIdentity Model = new("test-model", 4, new string('a', 64), "size=224");

    readonly TempDir _dir = new();
    readonly List<ICatalog> _opened = [];

    public static TheoryData<string> Backends()
    {
        var data = new TheoryData<string> { "sqlite" };
        if (PostgresServer.Url is not null)
            data.Add("postgres");
        return data;
    }

    /// <summary>A fresh, empty catalog's address on the given back-end.</summary>
    string NewAddress(string backend) =>
        backend == "sqlite" ? Path.Combine(_dir.Path, $"{Guid.NewGuid():N}.db") : PostgresServer.NewLibrary();

    ICatalog Open(string address)
    {
        ICatalog catalog = CatalogAddress.Parse(address).Open();
        _opened.Add(catalog);
        catalog.BindModel(Model);
        return catalog;
    }

    static List<ScannedFile> Files(int count, int size = 100) =>
        Enumerable.Range(0, count).Select(i => new ScannedFile($"a/{i:D5}.jpg", size, 1000 + i)).ToList();

    static float[] Unit(long hot) { var v = new float[4]; v[hot % 4] = 1; return v; }

    static void CommitAll(ICatalog catalog, string owner, IEnumerable<ClaimedImage> claimed) =>
        catalog.Commit(owner, claimed.Select(c => new EmbeddedImage(c.Id, Unit(c.Id))).ToList(), []);

    static void AssertDense(ICatalog catalog, int count)
    {
        var indexes = catalog.ReadVectors().Select(v => v.EmbeddingIndex).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, count).Select(i => (long)i), indexes);
        Assert.True(catalog.Verify().Ok, string.Join("; ", catalog.Verify().Problems));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void The_done_set_fingerprint_follows_exactly_the_done_images(string backend)
    {
        // Issue 15, item 4: the vector file beside the catalog trusts itself only when its ids give
        // the catalog's fingerprint; the fingerprint is computed in SQL, the file's in C#.
        ICatalog catalog = Open(NewAddress(backend));
        Assert.Equal(DoneSet.Empty, catalog.ReadDoneSet());
        catalog.Register(Files(30));
        var claimed = catalog.Claim("w", 30, TimeSpan.FromMinutes(1));
        CommitAll(catalog, "w", claimed.Take(20));

        static DoneSet Of(IEnumerable<long> ids) => ids.Aggregate(DoneSet.Empty, (set, id) => set.Add(id));
        Assert.Equal(Of(claimed.Take(20).Select(c => c.Id)), catalog.ReadDoneSet());
        Assert.Equal(Of(catalog.ReadVectors().Select(v => v.ImageId)), catalog.ReadDoneSet());

        // A changed file is no longer done: the fingerprint moves with it.
        catalog.Register([new ScannedFile(claimed[3].Path, 999, 999)]);
        Assert.Equal(Of(claimed.Take(20).Where(c => c.Id != claimed[3].Id).Select(c => c.Id)), catalog.ReadDoneSet());
    }

    [Theory, MemberData(nameof(Backends))]
    public void What_a_scan_left_out_is_stored_and_replaced_by_the_next_scan(string backend)
    {
        // Issue 13, item 4.
        string address = NewAddress(backend);
        var catalog = Open(address);
        Assert.Equal(0, catalog.ReadSkipped().Total);
        catalog.RecordSkipped(new SkippedFiles([new SkippedKind("video", 3, "2019/a.mp4"), new SkippedKind("sidecar", 1, "b.xmp")]));
        var reopened = Open(address);
        Assert.Equal([new SkippedKind("video", 3, "2019/a.mp4"), new SkippedKind("sidecar", 1, "b.xmp")], reopened.ReadSkipped().Kinds);
        reopened.RecordSkipped(SkippedFiles.None);
        Assert.Empty(catalog.ReadSkipped().Kinds);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Commits_give_dense_unique_embedding_indexes_in_commit_order(string backend)
    {
        var catalog = Open(NewAddress(backend));
        catalog.Register(Files(10));
        var first = catalog.Claim("me", 4, TimeSpan.FromMinutes(2));
        var second = catalog.Claim("me", 6, TimeSpan.FromMinutes(2));
        Assert.Empty(first.Select(c => c.Id).Intersect(second.Select(c => c.Id)));

        CommitAll(catalog, "me", second); // the later claim first: indexes follow commit order
        CommitAll(catalog, "me", first);
        var byId = catalog.ReadVectors().ToDictionary(v => v.ImageId, v => v.EmbeddingIndex);
        Assert.All(second, c => Assert.True(byId[c.Id] < 6));
        AssertDense(catalog, 10);
        Assert.True(catalog.LastCommitMs() > 0);
        Assert.Equal(10, catalog.CountDone());
    }

    [Theory, MemberData(nameof(Backends))]
    public void An_image_is_found_by_path_with_its_vector_only_once_done(string backend)
    {
        var catalog = Open(NewAddress(backend));
        catalog.Register(Files(2));
        var claimed = catalog.Claim("me", 1, TimeSpan.FromMinutes(2)).Single();
        CommitAll(catalog, "me", [claimed]);

        StoredVector found = catalog.FindDone(claimed.Path)!;
        Assert.Equal((claimed.Id, claimed.Path, 0L), (found.ImageId, found.Path, found.EmbeddingIndex));
        Assert.Equal(Unit(claimed.Id), found.Vector);
        Assert.Null(catalog.FindDone(Files(2).Single(f => f.Path != claimed.Path).Path)); // pending
        Assert.Null(catalog.FindDone("a/none.jpg"));
    }

    [Theory, MemberData(nameof(Backends))]
    public void A_zombie_whose_lease_expired_and_was_taken_over_changes_nothing(string backend)
    {
        var catalog = Open(NewAddress(backend));
        catalog.Register(Files(3));
        var zombieClaim = catalog.Claim("zombie", 3, TimeSpan.FromMilliseconds(300));
        Thread.Sleep(600);

        var takeover = catalog.Claim("alive", 3, TimeSpan.FromMinutes(2));
        Assert.Equal(zombieClaim.Select(c => c.Id), takeover.Select(c => c.Id));
        catalog.Commit("alive", takeover.Select(c => new EmbeddedImage(c.Id, Unit(0))).ToList(), []);

        catalog.RenewLeases("zombie", TimeSpan.FromMinutes(2)); // a late heartbeat renews nothing
        var late = catalog.Commit("zombie", zombieClaim.Select(c => new EmbeddedImage(c.Id, Unit(1))).ToList(),
            [new FailedImage(zombieClaim[0].Id, "decode", "late")]);
        Assert.Equal(new CommitResult(0, 0, 4), late);
        Assert.All(catalog.ReadVectors(), v => Assert.Equal(1f, v.Vector[0]));
        AssertDense(catalog, 3);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Live_leases_are_not_claimed_twice_renewal_keeps_them_and_release_frees_them(string backend)
    {
        string address = NewAddress(backend);
        var one = Open(address);
        var two = Open(address); // another process's view of the same catalog
        one.Register(Files(5));
        var lease = TimeSpan.FromSeconds(2);
        Assert.Equal(5, one.Claim("one", 10, lease).Count);
        Assert.Empty(two.Claim("two", 10, lease));
        Assert.Equal(["one"], two.ListLeaseOwners());

        Thread.Sleep(1200);
        one.RenewLeases("one", lease);
        Thread.Sleep(1200); // past the first lease, within the renewed one
        Assert.Empty(two.Claim("two", 10, lease));

        Assert.Equal(5, one.ReleaseClaims("one"));
        Assert.Equal(5, two.Claim("two", 10, lease).Count);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Workers_claiming_at_once_never_get_the_same_image(string backend)
    {
        string address = NewAddress(backend);
        Open(address).Register(Files(400));
        var workers = Enumerable.Range(0, 4).Select(_ => Open(address)).ToList();
        var claimedBy = new System.Collections.Concurrent.ConcurrentBag<long>();
        Parallel.ForEach(Enumerable.Range(0, 4), new ParallelOptions { MaxDegreeOfParallelism = 4 }, w =>
        {
            while (workers[w].Claim($"w{w}", 8, TimeSpan.FromMinutes(2)) is { Count: > 0 } batch)
            {
                foreach (var c in batch)
                    claimedBy.Add(c.Id);
                CommitAll(workers[w], $"w{w}", batch);
            }
        });
        Assert.Equal(400, claimedBy.Count);
        Assert.Equal(400, claimedBy.Distinct().Count());
        Assert.False(workers[0].HasUnfinished());
        AssertDense(workers[0], 400);
    }

    [Theory, MemberData(nameof(Backends))]
    public void A_rescan_writes_nothing_for_unchanged_files_and_a_changed_file_keeps_its_index(string backend)
    {
        var catalog = Open(NewAddress(backend));
        Assert.Equal(new RegisterResult(3, 0), catalog.Register(Files(3)));
        CommitAll(catalog, "me", catalog.Claim("me", 3, TimeSpan.FromMinutes(2)));
        long oldIndex = catalog.ReadVectors().Single(v => v.Path == "a/00001.jpg").EmbeddingIndex;

        Assert.Equal(new RegisterResult(0, 3), catalog.Register(Files(3)));
        var changed = Files(3);
        changed[1] = changed[1] with { Size = 999 };
        Assert.Equal(new RegisterResult(1, 2), catalog.Register(changed));
        var again = catalog.Claim("me", 3, TimeSpan.FromMinutes(2));
        Assert.Equal("a/00001.jpg", Assert.Single(again).Path);
        catalog.Commit("me", [new EmbeddedImage(again[0].Id, Unit(3), "feedface")], []);

        var row = catalog.ReadVectors().Single(v => v.Path == "a/00001.jpg");
        Assert.Equal(oldIndex, row.EmbeddingIndex);
        Assert.Equal(1f, row.Vector[3]);
        Assert.Equal(row.Vector, catalog.FindVectorByContent("feedface", 999));
        AssertDense(catalog, 3);
    }

    [Theory, MemberData(nameof(Backends))]
    public void Gone_files_become_missing_prune_removes_them_and_a_vanished_folder_is_refused(string backend)
    {
        var catalog = Open(NewAddress(backend));
        var files = Files(20).Concat(Enumerable.Range(0, 12).Select(i => new ScannedFile($"b/{i}.jpg", 5, 5))).ToList();
        catalog.Register(files);
        CommitAll(catalog, "me", catalog.Claim("me", 100, TimeSpan.FromMinutes(2)));

        // Folder b vanished (an unmounted share looks the same): refused, nothing marked.
        catalog.BeginScan();
        catalog.Register(files.Take(20).ToList());
        var refused = Assert.Throws<CatalogException>(() => catalog.CompleteScan([], allowMassDelete: false, massDeleteThreshold: 10));
        Assert.Contains("'b'", refused.Message);
        Assert.Equal(0, catalog.GetStats().Missing);

        catalog.BeginScan();
        catalog.Register(files.Where(f => f.Path != "a/00003.jpg").ToList());
        Assert.Equal(new ScanCompletion(1), catalog.CompleteScan([], allowMassDelete: false, massDeleteThreshold: 10));
        Assert.Equal(1, catalog.GetStats().Missing);
        Assert.Equal(1, catalog.PruneMissing());
        Assert.Equal(3, catalog.Forget("b/1*.jpg")); // b/1.jpg, b/10.jpg, b/11.jpg
        Assert.Equal(1, catalog.Forget("b/2.jpg"));
        Assert.True(catalog.Verify().Ok, string.Join("; ", catalog.Verify().Problems)); // holes from removals are expected
        Assert.Equal(32 - 1 - 4, catalog.CountDone());
        Assert.Equal(new CatalogCounters(32, 5), catalog.ReadCounters());
    }

    [Theory, MemberData(nameof(Backends))]
    public void Failures_are_recorded_with_stage_and_reason_and_reset_on_request(string backend)
    {
        var catalog = Open(NewAddress(backend));
        catalog.Register(Files(2));
        var claimed = catalog.Claim("me", 2, TimeSpan.FromMinutes(2));
        var result = catalog.Commit("me", [new EmbeddedImage(claimed[0].Id, Unit(0))], [new FailedImage(claimed[1].Id, "decode", "not an image")]);
        Assert.Equal(new CommitResult(1, 1, 0), result);
        var failed = Assert.Single(catalog.ListFailed());
        Assert.Equal(("a/00001.jpg", "decode", "not an image", 1), (failed.Path, failed.Stage, failed.Reason, failed.Attempts));
        Assert.Equal(("decode", "not an image", 1L), Assert.Single(catalog.GetStats().FailedByReason));
        Assert.Equal(1, catalog.ResetFailed());
        Assert.True(catalog.HasUnfinished());
    }

    [Theory, MemberData(nameof(Backends))]
    public void Vectors_of_another_model_are_refused_and_the_model_is_kept(string backend)
    {
        string address = NewAddress(backend);
        var catalog = Open(address);
        var other = Model with { VisualSha256 = new string('b', 64) };
        var e = Assert.Throws<CatalogException>(() => catalog.BindModel(other));
        Assert.Contains("never mixed", e.Message);
        using var reopened = CatalogAddress.Parse(address).Open();
        Assert.Equal(Model, reopened.Model);
    }

    public void Dispose()
    {
        foreach (var catalog in _opened)
            catalog.Dispose();
        _dir.Dispose();
    }
}
