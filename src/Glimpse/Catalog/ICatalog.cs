
namespace Glimpse.Catalog;

/// <summary>
/// The one contract of Glimpse's catalog: images, their status and leases, and their vectors.
/// Embedded SQLite is the default back-end; PostgreSQL, for many machines, implements the same
/// contract (same statuses, fenced commits, leases that expire). Implementations are safe to call
/// from several threads of one process.
/// </summary>
public interface ICatalog : IDisposable
{
    /// <summary>Where the catalog lives, for messages (a file path, or a server and library without its password).</summary>
    string Location { get; }

    /// <summary>
    /// Where this machine keeps data derived from the catalog (the ANN index), as a path prefix:
    /// beside a catalog file, or in the user's cache for a server's catalog.
    /// </summary>
    string DerivedDataPrefix { get; }

    /// <summary>The model whose vectors this catalog holds, or null while it holds none.</summary>
    ModelIdentity? Model { get; }

    /// <summary>Records <paramref name="model"/> on first use; refuses a model whose vectors would not be comparable.</summary>
    /// <exception cref="CatalogException">The catalog holds vectors of another model.</exception>
    void BindModel(ModelIdentity model);

    /// <summary>Starts a scan: every path passed to <see cref="Register"/> until <see cref="CompleteScan"/> counts as seen.</summary>
    void BeginScan();

    /// <summary>
    /// Ends a complete scan: rows not seen (outside <paramref name="unreadableFolders"/>) become
    /// <see cref="ImageStatus.Missing"/>. Refuses, changing nothing, when that would take a whole
    /// folder of at least <paramref name="massDeleteThreshold"/> images (or everything) at once,
    /// as when a drive is unmounted, unless <paramref name="allowMassDelete"/>.
    /// </summary>
    /// <exception cref="CatalogException">A mass deletion was refused.</exception>
    ScanCompletion CompleteScan(IReadOnlyCollection<string> unreadableFolders, bool allowMassDelete, int massDeleteThreshold = 1000);

    /// <summary>Stores what the last complete scan left out (replacing the previous record).</summary>
    void RecordSkipped(SkippedFiles skipped);

    /// <summary>What the last complete scan left out; <see cref="SkippedFiles.None"/> before any.</summary>
    SkippedFiles ReadSkipped();

    /// <summary>Deletes missing rows and their vectors; returns how many.</summary>
    int PruneMissing();

    /// <summary>Deletes the rows (and vectors) whose paths match; '*' and '?' are wildcards, a folder takes what is under it.</summary>
    int Forget(string pattern);

    /// <summary>The stored vector of an image with this content (done or missing), for a moved or copied file; null if none.</summary>
    float[]? FindVectorByContent(string contentHash, long size);

    /// <summary>Adds new files and resets changed ones (size or mtime differ) to pending. Unchanged rows are not written.</summary>
    RegisterResult Register(IReadOnlyList<ScannedFile> files);

    /// <summary>Leases up to <paramref name="count"/> unfinished images (pending, or leased by someone whose lease expired).</summary>
    IReadOnlyList<ClaimedImage> Claim(string owner, int count, TimeSpan lease);

    /// <summary>Extends every lease <paramref name="owner"/> holds, so slow work is not taken over while alive.</summary>
    void RenewLeases(string owner, TimeSpan lease);

    /// <summary>Every worker that holds a lease now, live or not.</summary>
    IReadOnlyList<string> ListLeaseOwners();

    /// <summary>Every worker holding claims: how many images, and whether its lease ran out (for an honest status).</summary>
    IReadOnlyList<LeaseHolder> ListLeaseHolders();

    /// <summary>Gives back every image <paramref name="owner"/> still holds, for others to take at once.</summary>
    int ReleaseClaims(string owner);

    /// <summary>
    /// Commits a batch in one transaction: vectors, their <c>embedding_index</c> and statuses, and
    /// failures. Fenced on <paramref name="owner"/>: a row whose lease was taken over is left alone.
    /// </summary>
    CommitResult Commit(string owner, IReadOnlyList<EmbeddedImage> done, IReadOnlyList<FailedImage> failed);

    /// <summary>
    /// Adopts vectors made elsewhere (an old-layout index): each file is stored as done with its
    /// vector and a new embedding_index, in one transaction. Files already in the catalog are left alone.
    /// </summary>
    int Adopt(IReadOnlyList<(ScannedFile File, float[] Vector)> images);

    /// <summary>Registers files as pending with a note of why (e.g. an import found their vector broken).</summary>
    void RegisterPending(IReadOnlyList<(ScannedFile File, string Reason)> images);

    /// <summary>Sets every failed image back to pending (<c>--retry-failed</c>).</summary>
    int ResetFailed();

    /// <summary>Images pending or leased right now (cheap: <see cref="GetStats"/> counts every row).</summary>
    long CountUnfinished();

    /// <summary>True while some image is pending or leased.</summary>
    bool HasUnfinished();

    CatalogStats GetStats();

    IReadOnlyList<FailedEntry> ListFailed();

    /// <summary>Every stored vector of a done image, in <c>embedding_index</c> order, from one consistent snapshot.</summary>
    IEnumerable<StoredVector> ReadVectors();

    /// <summary>Done images right now (those <see cref="ReadVectors"/> returns).</summary>
    long CountDone();

    /// <summary>
    /// A fingerprint of which images are done right now (their count and the sum of their ids,
    /// <see cref="DoneSet"/>): a copy of the vectors kept elsewhere is current when its ids give the
    /// same fingerprint.
    /// </summary>
    DoneSet ReadDoneSet();

    /// <summary>
    /// Done images committed at or after <paramref name="sinceMs"/> (unix ms of the commit). Commit
    /// times are taken under the catalog's write lock, so they follow commit order.
    /// </summary>
    IReadOnlyList<StoredVector> ReadVectorsSince(long sinceMs);

    /// <summary>How many done images were committed at or after <paramref name="sinceMs"/> (through the commit-time index).</summary>
    long CountDoneSince(long sinceMs);

    /// <summary>Paths of the given images that are done now (others are left out: gone, changed or removed).</summary>
    IReadOnlyDictionary<long, string> DonePaths(IEnumerable<long> imageIds);

    /// <summary>The latest commit time (unix ms) of any image, or 0.</summary>
    long LastCommitMs();

    /// <summary>The relative path of a done image by its id; null for an unknown id and for a failed, missing or pending image.</summary>
    string? PathOfImage(long imageId);

    /// <summary>The done image at this relative path with its stored vector, or null (not indexed, not done).</summary>
    StoredVector? FindDone(string path);

    /// <summary>Checks the catalog's invariants (unique, dense indexes; a vector per done image; finite unit vectors).</summary>
    VerifyReport Verify();

    /// <summary>True when the catalog ranks vectors itself (PostgreSQL with pgvector enabled).</summary>
    bool SearchesInDatabase { get; }

    /// <summary>Lets the catalog rank vectors itself where its back-end can (pgvector); false, changing nothing, where it cannot.</summary>
    bool EnableInDatabaseSearch();

    /// <summary>The nearest done images by cosine, ranked inside the database.</summary>
    /// <exception cref="CatalogException">The catalog cannot search in the database (<see cref="SearchesInDatabase"/> is false).</exception>
    IReadOnlyList<(long ImageId, string Path, float Score)> SearchInDatabase(float[] query, int limit);

    /// <summary>
    /// Writes a consistent copy of this catalog, taken while it may be in use, into a new SQLite
    /// file at <paramref name="destination"/> (never over an existing one): what to keep instead of
    /// copying a live catalog's files.
    /// </summary>
    void BackupTo(string destination, CancellationToken cancellationToken = default);

    /// <summary>Every row with its vector, ordered by path (ordinal), starting after <paramref name="afterPath"/>: for copying a catalog.</summary>
    IEnumerable<CatalogRow> ReadRows(string? afterPath = null);

    /// <summary>
    /// Writes rows copied from another catalog in one transaction, keeping their embedding_index;
    /// rows whose path is already here are left alone. Returns how many were written.
    /// </summary>
    int CopyIn(IReadOnlyList<CatalogRow> rows);

    /// <summary>The catalog's counters: the next embedding_index to give, and how many indexed images were removed.</summary>
    CatalogCounters ReadCounters();

    /// <summary>Raises the counters to at least <paramref name="counters"/> (after a copy).</summary>
    void RaiseCounters(CatalogCounters counters);
}
