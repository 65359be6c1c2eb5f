using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>
/// Walks a library root for image files: hidden entries (a leading '.') and the catalog's own folder
/// are skipped, and files of other kinds are counted by kind (<see cref="Skipped"/>), as are
/// symbolic links whose target lies outside the root (a link to /etc/passwd is not a photo). Symbolic links to folders are followed once each, so a
/// link loop cannot hang the walk; a folder that cannot be read is reported and skipped.
/// </summary>
internal sealed class FileScanner
{
    readonly string _root;
    readonly string? _excludedDir;
    readonly Action<string> _warn;

    readonly string _realRoot;
    readonly bool _followLinksOutside;

    /// <param name="followLinksOutside">Take symbolic links that lead outside the root too (off by default: they are counted and left out).</param>
    public FileScanner(string root, string? excludedDir, Action<string> warn, bool followLinksOutside = false)
    {
        _root = Path.GetFullPath(root);
        _realRoot = RealPath.Of(_root) ?? _root;
        _followLinksOutside = followLinksOutside;
        _excludedDir = excludedDir is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(excludedDir));
        _warn = warn;
    }

    /// <summary>Folders (relative to the root) the walk could not read: their indexed images are not "gone".</summary>
    public List<string> UnreadableFolders { get; } = [];

    readonly Dictionary<string, (long Count, string Example)> _skipped = [];

    /// <summary>Files the walk left out because they are not images Glimpse reads, by kind, with the first one seen of each.</summary>
    public SkippedFiles Skipped =>
        new([.. _skipped.OrderByDescending(k => k.Value.Count).ThenBy(k => k.Key, StringComparer.Ordinal).Select(k => new SkippedKind(k.Key, k.Value.Count, k.Value.Example))]);

    /// <param name="only">
    /// Walk just these folders (full paths under the root), each with or without what is under it,
    /// instead of the whole tree: a watch's pass over the folders its events named.
    /// </param>
    public IEnumerable<ScannedFile> Scan(CancellationToken cancellationToken, IReadOnlyCollection<ScanFolder>? only = null)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal) { Resolved(_root) };
        var pending = new Stack<(string Dir, bool Recursive)>();
        if (only is null)
            pending.Push((_root, true));
        else
            foreach (ScanFolder folder in only.OrderByDescending(f => f.Path, StringComparer.Ordinal))
                if (IsInsideRoot(folder.Path) && Directory.Exists(folder.Path))
                    pending.Push((Path.GetFullPath(folder.Path), folder.Recursive));
        var walked = new HashSet<string>(StringComparer.Ordinal);
        while (pending.Count > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (dir, recursive) = pending.Pop();
            if (!walked.Add(dir))
                continue; // named twice (a folder and its parent's walk)
            List<FileSystemInfo> entries;
            try
            {
                entries = new DirectoryInfo(dir).EnumerateFileSystemInfos().ToList();
            }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                _warn($"skipping folder {Relative(dir)}: {e.Message}");
                UnreadableFolders.Add(Relative(dir));
                continue;
            }

            // Sorted so that runs claim work in a stable order (and resume reads the same way).
            entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
            var subdirs = new List<string>();
            foreach (var entry in entries)
            {
                if (entry.Name.StartsWith('.'))
                    continue;
                // From the walk's own stat: no readlink call for the files that are not links.
                bool isLink = (entry.Attributes & FileAttributes.ReparsePoint) != 0;
                if (isLink && !_followLinksOutside && LeadsOutside(entry))
                {
                    Skip(LinkOutsideKind, entry);
                    continue;
                }
                if (entry is DirectoryInfo sub)
                {
                    if (_excludedDir is not null && string.Equals(sub.FullName, _excludedDir, StringComparison.Ordinal))
                        continue;
                    if (isLink && !visited.Add(Resolved(sub.FullName)))
                        continue;
                    if (!isLink)
                        visited.Add(sub.FullName);
                    subdirs.Add(sub.FullName);
                }
                else if (entry is FileInfo file && ImageExtensions.IsImage(file.Name))
                {
                    ScannedFile? found = Stat(file);
                    if (found is not null)
                        yield return found;
                }
                else if (entry is FileInfo other)
                {
                    Skip(ImageExtensions.SkippedKind(other.Name), other);
                }
            }
            if (recursive)
                for (int i = subdirs.Count - 1; i >= 0; i--)
                    pending.Push((subdirs[i], true));
        }
    }

    /// <summary>Under the root, not hidden and not the catalog's folder: the places a full walk would go.</summary>
    bool IsInsideRoot(string path)
    {
        string relative = Path.GetRelativePath(_root, Path.GetFullPath(path));
        if (relative == ".")
            return true;
        if (relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            return false;
        string full = Path.GetFullPath(path);
        return !relative.Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.'))
               && (_excludedDir is null || !(full + "/").StartsWith(_excludedDir + "/", StringComparison.Ordinal));
    }

    /// <summary>The kind under which links leading outside the library are counted.</summary>
    public const string LinkOutsideKind = "link outside the library";

    void Skip(string kind, FileSystemInfo entry) =>
        _skipped[kind] = _skipped.TryGetValue(kind, out var seen) ? (seen.Count + 1, seen.Example) : (1, Relative(entry.FullName));

    ScannedFile? Stat(FileInfo entry)
    {
        try
        {
            // A link is stored under its own path with its target's size and time.
            FileInfo file = entry.LinkTarget is null ? entry : entry.ResolveLinkTarget(returnFinalTarget: true) as FileInfo ?? entry;
            if (!file.Exists)
            {
                _warn($"skipping {Relative(entry.FullName)}: broken link");
                return null;
            }
            long mtimeNs = (file.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
            return new ScannedFile(Relative(entry.FullName), file.Length, mtimeNs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _warn($"skipping {Relative(entry.FullName)}: {e.Message}");
            return null;
        }
    }

    string Relative(string fullPath) => Path.GetRelativePath(_root, fullPath).Replace('\\', '/');

    /// <summary>A link whose target exists outside the root (a broken one is reported where it is statted).</summary>
    bool LeadsOutside(FileSystemInfo link) =>
        Indexing.RealPath.Of(link.FullName) is { } target && !Indexing.RealPath.IsWithin(_realRoot, target);

    /// <summary>A folder's real path for the loop check; the path as it is when it cannot be resolved.</summary>
    static string Resolved(string path) => Indexing.RealPath.Of(path) ?? Path.GetFullPath(path);
}

/// <summary>A folder for a partial walk: itself only, or with everything under it (a folder that just appeared).</summary>
public sealed record ScanFolder(string Path, bool Recursive);
