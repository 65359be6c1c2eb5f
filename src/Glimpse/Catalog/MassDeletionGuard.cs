namespace Glimpse.Catalog;

/// <summary>
/// An unmounted drive or a folder that vanished looks exactly like mass deletion. The end of a
/// scan refuses when everything would go, or when a top-level folder with at least the threshold
/// of indexed images would be emptied. The same rule for every back-end; each supplies the counts.
/// </summary>
internal static class MassDeletionGuard
{
    /// <summary>True when <paramref name="path"/> lies under a folder the scan could not read: not seen, but not gone either.</summary>
    public static bool InUnreadableFolder(string path, IReadOnlyCollection<string> unreadableFolders) =>
        unreadableFolders.Any(f => path.StartsWith(f + "/", StringComparison.Ordinal));

    /// <param name="gone">Paths the scan did not find.</param>
    /// <param name="countPresent">How many rows are not missing now.</param>
    /// <param name="countPresentUnder">How many rows not missing have paths in [lo, hi).</param>
    /// <exception cref="CatalogException">The deletion was refused.</exception>
    public static void Check(IReadOnlyList<string> gone, int threshold, Func<long> countPresent, Func<string, string, long> countPresentUnder)
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
