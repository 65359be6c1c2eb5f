namespace Glimpse.Catalog;

/// <summary>What <see cref="CatalogCopier.Copy"/> did and found.</summary>
public sealed record CopyReport(long SourceRows, long Copied, long Verified, IReadOnlyList<string> Mismatches)
{
    public bool Ok => Mismatches.Count == 0 && Verified == SourceRows;
}

/// <summary>
/// <c>glimpse catalog copy SRC DST</c>: moves a whole catalog between back-ends (SQLite and
/// PostgreSQL, either way) with its vectors and their embedding_index, then reads both back in
/// path order and compares them row by row. Rows go over in chunks, one transaction each, and a
/// row already in the target is left alone: an interrupted copy resumes by running it again.
/// </summary>
public static class CatalogCopier
{
    /// <summary>Rows per target transaction: about 1 MB of 512-d vectors.</summary>
    const int ChunkRows = 500;

    /// <summary>How many mismatches are listed before the rest are only counted.</summary>
    const int MismatchesListed = 20;

    public static CopyReport Copy(ICatalog source, ICatalog target, Action<long>? progress = null, CancellationToken cancellationToken = default)
    {
        if (source.Model is { } model)
            target.BindModel(model); // refuses a target that holds another model's vectors

        long read = 0, copied = 0;
        foreach (CatalogRow[] chunk in source.ReadRows().Chunk(ChunkRows))
        {
            cancellationToken.ThrowIfCancellationRequested();
            copied += target.CopyIn(chunk);
            read += chunk.Length;
            progress?.Invoke(read);
        }
        // After the rows: a copy stopped before this point has counters no higher than its rows need.
        target.RaiseCounters(source.ReadCounters());

        var (verified, mismatches) = Compare(source, target, cancellationToken);
        return new CopyReport(read, copied, verified, mismatches);
    }

    /// <summary>Walks both catalogs in path order, like a merge join, and lists every difference.</summary>
    static (long Verified, List<string> Mismatches) Compare(ICatalog source, ICatalog target, CancellationToken cancellationToken)
    {
        var mismatches = new List<string>();
        long verified = 0, unlisted = 0;
        void Mismatch(string what)
        {
            if (mismatches.Count < MismatchesListed)
                mismatches.Add(what);
            else
                unlisted++;
        }

        using var a = source.ReadRows().GetEnumerator();
        using var b = target.ReadRows().GetEnumerator();
        bool hasA = a.MoveNext(), hasB = b.MoveNext();
        while (hasA || hasB)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int order = !hasA ? 1 : !hasB ? -1 : string.CompareOrdinal(a.Current.Path, b.Current.Path);
            if (order < 0)
            {
                Mismatch($"{a.Current.Path}: missing from the target");
                hasA = a.MoveNext();
                continue;
            }
            if (order > 0)
            {
                Mismatch($"{b.Current.Path}: in the target but not in the source");
                hasB = b.MoveNext();
                continue;
            }
            if (Difference(a.Current, b.Current) is { } difference)
                Mismatch($"{a.Current.Path}: {difference}");
            else
                verified++;
            hasA = a.MoveNext();
            hasB = b.MoveNext();
        }
        if (unlisted > 0)
            mismatches.Add($"... and {unlisted} more");
        return (verified, mismatches);
    }

    /// <summary>A lease belongs to a worker of the source catalog: a claimed row arrives pending.</summary>
    internal static ImageStatus CopiedStatus(ImageStatus status) => status == ImageStatus.Claimed ? ImageStatus.Pending : status;

    /// <summary>The first field in which a copied row differs from its source, or null when it is the same row.</summary>
    internal static string? Difference(CatalogRow source, CatalogRow copy)
    {
        ImageStatus expected = CopiedStatus(source.Status);
        if (copy.Size != source.Size || copy.MtimeNs != source.MtimeNs)
            return "size or modification time differ";
        if (copy.Status != expected)
            return $"status {copy.Status}, expected {expected}";
        if (copy.EmbeddingIndex != source.EmbeddingIndex)
            return $"embedding_index {copy.EmbeddingIndex?.ToString() ?? "none"}, expected {source.EmbeddingIndex?.ToString() ?? "none"}";
        if (copy.ContentHash != source.ContentHash || copy.FailStage != source.FailStage || copy.FailReason != source.FailReason
            || copy.Attempts != source.Attempts || copy.DoneAt != source.DoneAt)
            return "content hash, failure, attempts or commit time differ";
        if ((copy.Vector is null) != (source.Vector is null))
            return copy.Vector is null ? "vector missing" : "vector where the source has none";
        if (copy.Vector is not null && !copy.Vector.AsSpan().SequenceEqual(source.Vector))
            return "vector differs";
        return null;
    }
}
