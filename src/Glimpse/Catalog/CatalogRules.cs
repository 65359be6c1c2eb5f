namespace Glimpse.Catalog;

/// <summary>
/// The rules every back-end applies, written once. Each back-end runs its own SQL around them
/// (its table names, its clock, its locking), but what counts as changed, claimable or recent is
/// decided here. The SQL fragments use the alias <c>i</c> for the images table.
/// </summary>
internal static class CatalogRules
{
    /// <summary>
    /// What a scan does to a file it registers again (the upsert's conflict action, after
    /// <c>INSERT INTO images AS i ... ON CONFLICT (path)</c>): a changed file (size or mtime differ)
    /// goes back to pending, failures and all; an unchanged one is not written, so a rescan of a
    /// settled library writes nothing. A missing file that is back unchanged is done again with the
    /// vector it kept.
    /// </summary>
    public const string RegisterAgain = """
        DO UPDATE SET
            status = CASE WHEN i.status = 4 AND i.size = excluded.size AND i.mtime_ns = excluded.mtime_ns
                          AND i.embedding_index IS NOT NULL THEN 2 ELSE 0 END,
            size = excluded.size, mtime_ns = excluded.mtime_ns,
            lease_owner = NULL, lease_until = NULL, fail_stage = NULL, fail_reason = NULL, attempts = 0
        WHERE i.size <> excluded.size OR i.mtime_ns <> excluded.mtime_ns OR i.status = 4
        """;

    /// <summary>
    /// Which rows a claim may take: pending, or leased by a worker whose lease ran out before
    /// <paramref name="now"/> (an SQL expression in unix ms). "status &lt; 2" comes first: without
    /// it both SQLite and PostgreSQL scan every row instead of the partial index of unfinished rows.
    /// </summary>
    public static string Claimable(string now) => $"status < 2 AND (status = 0 OR lease_until < {now})";

    /// <summary>The window over which <see cref="CatalogStats.RecentImagesPerSecond"/> is measured.</summary>
    public static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(2);

    /// <summary>How many kinds of failure <c>status</c> lists, the most frequent first.</summary>
    public const int FailureReasonsShown = 20;

    /// <summary>
    /// Images per second over the rate window, from how many were committed in it and when the
    /// first of them was: one commit alone says nothing about a rate.
    /// </summary>
    public static double RecentRate(long committedInWindow, long firstCommitMs, long nowMs) =>
        committedInWindow > 1 ? committedInWindow / Math.Max((nowMs - firstCommitMs) / 1000.0, 1.0) : 0;

    /// <summary>Builds <c>status</c>'s totals from per-status row counts (statuses this Glimpse does not know are left out).</summary>
    public static CatalogStats Stats(IEnumerable<(int Status, long Count)> byStatus,
        IReadOnlyList<(string Stage, string Reason, long Count)> failedByReason, double rate, long storageBytes)
    {
        var counts = new long[5];
        foreach (var (status, count) in byStatus)
            if (status is >= 0 and < 5)
                counts[status] = count;
        return new CatalogStats(counts[0], counts[1], counts[2], counts[3], counts[4], failedByReason, rate, storageBytes);
    }
}
