namespace Glimpse.Catalog;

/// <summary>A file found by the scan: its path relative to the library root, size and modification time.</summary>
public sealed record ScannedFile(string Path, long Size, long MtimeNs);

/// <summary>An image leased to one worker until its lease runs out.</summary>
public sealed record ClaimedImage(long Id, string Path, long Size, long MtimeNs);

/// <summary>An image's finished vector, ready to commit.</summary>
public sealed record EmbeddedImage(long Id, float[] Vector, string? ContentHash = null);

/// <summary>An image that could not be embedded: the stage that failed (read, decode, encode) and a one-line reason.</summary>
public sealed record FailedImage(long Id, string Stage, string Reason);

/// <summary>A failed image as listed by <c>glimpse failed</c>.</summary>
public sealed record FailedEntry(string Path, string Stage, string Reason, int Attempts);

/// <summary>A stored vector in <c>embedding_index</c> order.</summary>
public sealed record StoredVector(long ImageId, string Path, long EmbeddingIndex, float[] Vector);

/// <summary>How many rows a scan added or reset to pending, and how many it left alone.</summary>
public sealed record RegisterResult(int NewOrChanged, int Unchanged);

/// <summary>What a batch commit changed. Rows whose lease this worker no longer held are <see cref="Rejected"/>.</summary>
public sealed record CommitResult(int Done, int Failed, int Rejected);

/// <summary>What the end of a complete scan found gone: rows newly marked missing.</summary>
public sealed record ScanCompletion(int NewlyMissing)
{
    /// <summary>Why nothing could be checked for being gone this time (the next complete scan checks), or null.</summary>
    public string? NotCheckedBecause { get; init; }
}

/// <summary>Totals for <c>glimpse status</c>.</summary>
public sealed record CatalogStats(
    long Pending,
    long Claimed,
    long Done,
    long Failed,
    long Missing,
    IReadOnlyList<(string Stage, string Reason, long Count)> FailedByReason,
    double RecentImagesPerSecond,
    long StorageBytes)
{
    public long Total => Pending + Claimed + Done + Failed;
    public long Left => Pending + Claimed;
}

/// <summary>A whole catalog row and its vector, as <c>glimpse catalog copy</c> moves it between back-ends. Leases are not copied.</summary>
public sealed record CatalogRow(
    string Path, long Size, long MtimeNs, ImageStatus Status, string? FailStage, string? FailReason, int Attempts,
    long? EmbeddingIndex, long? DoneAt, string? ContentHash, float[]? Vector);

/// <summary>The counters a catalog keeps beside its rows.</summary>
public sealed record CatalogCounters(long NextEmbeddingIndex, long RemovedImages);

/// <summary>Files of one kind a scan left out (not images Glimpse reads), with one example path.</summary>
public sealed record SkippedKind(string Kind, long Count, string Example);

/// <summary>
/// What the last complete scan left out, by kind (video, vector or document, sidecar, other):
/// counted and said, never skipped silently. Stored with the catalog so <c>status</c> shows it.
/// </summary>
public sealed record SkippedFiles(IReadOnlyList<SkippedKind> Kinds)
{
    public static SkippedFiles None { get; } = new([]);

    public long Total => Kinds.Sum(k => k.Count);

    /// <summary>Equal when the same kinds, counts and examples are listed in the same order.</summary>
    public bool Equals(SkippedFiles? other) => other is not null && Kinds.SequenceEqual(other.Kinds);

    public override int GetHashCode() => Kinds.Aggregate(0, (h, k) => HashCode.Combine(h, k));

    public string ToJson() => System.Text.Json.JsonSerializer.Serialize(Kinds);

    /// <summary>The stored form back; an unreadable one counts as none (it is only a report).</summary>
    public static SkippedFiles FromJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
            return None;
        try
        {
            return new(System.Text.Json.JsonSerializer.Deserialize<List<SkippedKind>>(json) ?? []);
        }
        catch (System.Text.Json.JsonException)
        {
            return None;
        }
    }

    /// <summary>One line for people: "3 videos (e.g. 2019/a.mp4), 1 sidecar (e.g. b.xmp)".</summary>
    public string Describe() => string.Join(", ", Kinds.Select(k => $"{k.Count} {k.Kind} (e.g. {k.Example})"));
}

/// <summary>The images one worker holds claimed, and whether its lease has run out (nobody renewed it).</summary>
public sealed record LeaseHolder(string Owner, long Images, bool LeaseExpired);

/// <summary>
/// Which images are done, in two numbers: how many, and the sum of their ids. Two sets of the same
/// size that differ have the same sum only when the ids one lacks add up exactly to those the
/// other lacks, which takes two or more changes that leave no trace in the commit times; a derived
/// copy of the vectors uses it to tell that it is current (a fuller checksum cost twice the
/// time at a million rows).
/// </summary>
public sealed record DoneSet(long Count, long IdSum)
{
    /// <summary>The SQL that computes both numbers over an <c>id</c> column (the same in SQLite and PostgreSQL).</summary>
    internal const string Sql = "COUNT(*), COALESCE(SUM(id), 0)";

    public static DoneSet Empty { get; } = new(0, 0);

    /// <summary>The set with one more id.</summary>
    public DoneSet Add(long id) => new(Count + 1, IdSum + id);
}
