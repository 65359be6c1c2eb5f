namespace Glimpse.Catalog;

/// <summary>
/// An unmounted drive or a folder that vanished looks exactly like mass deletion. The end of a
/// scan refuses when everything would go, or when a top-level folder with at least the threshold
/// of indexed images would be emptied. The same rule for every back-end; each supplies the counts.
/// </summary>
internal static class MassDeletionGuard
{
    /// <summary>
    /// The end of a complete scan, for every back-end: of the rows the scan did not see, those
    /// under a folder it could not read are kept; the rest are gone, unless taking them all at once
    /// looks like an unmounted drive (then nothing is, and the refusal says why).
    /// </summary>
    /// <param name="unseen">Rows not missing that the scan did not see: id and path.</param>
    /// <returns>The ids to mark missing.</returns>
    /// <exception cref="CatalogException">The deletion was refused.</exception>
    public static IReadOnlyList<long> SelectGone(IEnumerable<(long Id, string Path)> unseen, IReadOnlyCollection<string> unreadableFolders,
        bool allowMassDelete, int threshold, Func<long> countPresent, Func<string, string, long> countPresentUnder)
    {
        var gone = unseen.Where(row => !InUnreadableFolder(row.Path, unreadableFolders)).ToList();
        if (gone.Count > 0 && !allowMassDelete)
            Check(gone.Select(g => g.Path).ToList(), threshold, countPresent, countPresentUnder);
        return gone.Select(g => g.Id).ToList();
    }

    /// <summary>True when <paramref name="path"/> lies under a folder the scan could not read: not seen, but not gone either.</summary>
    static bool InUnreadableFolder(string path, IReadOnlyCollection<string> unreadableFolders) =>
        unreadableFolders.Any(f => path.StartsWith(f + "/", StringComparison.Ordinal));

    /// <param name="gone">Paths the scan did not find.</param>
    /// <param name="countPresent">How many rows are not missing now.</param>
    /// <param name="countPresentUnder">How many rows not missing have paths in [lo, hi).</param>
    /// <exception cref="CatalogException">The deletion was refused.</exception>
    static void Check(IReadOnlyList<string> gone, int threshold, Func<long> countPresent, Func<string, string, long> countPresentUnder)
    {
        long present = countPresent();
        if (gone.Count == present && present >= Math.Min(threshold, 10))
            throw new CatalogException(
                $"the scan found none of the {present} indexed images: is the library's drive mounted? Nothing was marked missing. " +
                "If they really are gone, run again with --allow-mass-delete.");

        foreach (var folder in gone.Where(p => p.Contains('/')).GroupBy(p => p[..p.IndexOf('/')]).Where(g => g.Count() >= threshold))
        {
            long inFolder = countPresentUnder(folder.Key + "/", folder.Key + "0"); // '0' sorts right after '/'
            if (folder.Count() == inFolder)
                throw new CatalogException(
                    $"the folder '{folder.Key}' held {inFolder} indexed images and is now empty or unreachable. Nothing was marked missing. " +
                    "If they really are gone, run again with --allow-mass-delete.");
        }
    }
}
