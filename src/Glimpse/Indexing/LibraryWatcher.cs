namespace Glimpse.Indexing;

/// <summary>
/// File-system events under a library root (inotify, through .NET's FileSystemWatcher), reduced
/// to what the watch loop needs: whether anything changed since it last looked and when the last
/// change came. Hidden entries (a leading '.', which the scan skips too: the catalog's own folder,
/// editors' and rsync's temporary files) are not changes. The events only say when to rescan; the
/// rescan decides what changed, so a lost or merged event costs nothing but latency.
/// </summary>
public sealed class LibraryWatcher : IDisposable
{
    readonly FileSystemWatcher? _watcher;
    readonly string _root;
    string? _excluded;
    long _lastEventTicks;
    int _dirty, _overflowed;

    LibraryWatcher(string root, FileSystemWatcher? watcher, string? problem)
    {
        _root = root;
        _watcher = watcher;
        Problem = problem;
    }

    /// <summary>Why there are no events (the inotify watch limit, most often): rescans on a timer only. Null when watching.</summary>
    public string? Problem { get; private set; }

    /// <summary>
    /// Starts watching <paramref name="root"/> and every folder under it. The catalog's own writes
    /// are no change: its folder (<paramref name="catalogFile"/>'s, unless that is the root) and the
    /// files named after it (-wal, -shm, .vectors, ...) are left out.
    /// </summary>
    public static LibraryWatcher Start(string root, string? catalogFile = null)
    {
        LibraryWatcher watcher = StartWatching(root);
        if (catalogFile is not null)
        {
            string file = Path.GetFullPath(catalogFile);
            string dir = Path.TrimEndingDirectorySeparator(Path.GetDirectoryName(file)!);
            watcher._excluded = dir == watcher._root ? null : dir;
            watcher._catalogFile = file;
        }
        return watcher;
    }

    string? _catalogFile;

    static LibraryWatcher StartWatching(string root)
    {
        string full = Path.GetFullPath(root);
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(full)
            {
                IncludeSubdirectories = true,
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
                InternalBufferSize = 64 * 1024, // the most inotify events one read can return
            };
            var result = new LibraryWatcher(full, watcher, null);
            watcher.Created += result.OnChange;
            watcher.Changed += result.OnChange;
            watcher.Deleted += result.OnChange;
            watcher.Renamed += result.OnChange;
            watcher.Error += result.OnError;
            watcher.EnableRaisingEvents = true;
            return result;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            watcher?.Dispose();
            return new LibraryWatcher(full, null, Explain(e));
        }
    }

    /// <summary>True once since the last <see cref="TakeChanges"/> if a non-hidden entry changed.</summary>
    public bool HasChanges => Volatile.Read(ref _dirty) == 1;

    /// <summary>When the last change came (UTC ticks; 0: none).</summary>
    public DateTime LastChange => new(Interlocked.Read(ref _lastEventTicks), DateTimeKind.Utc);

    /// <summary>Clears the change flag before a rescan: what changes during it is seen by the next one.</summary>
    public void TakeChanges() => Interlocked.Exchange(ref _dirty, 0);

    /// <summary>True once after the kernel dropped events (too many at once): only a full rescan is sure to see everything.</summary>
    public bool TakeOverflow() => Interlocked.Exchange(ref _overflowed, 0) == 1;

    void OnChange(object sender, FileSystemEventArgs e)
    {
        bool hidden = IsHidden(e.FullPath);
        string? oldPath = (e as RenamedEventArgs)?.OldFullPath;
        if (hidden && (oldPath is null || IsHidden(oldPath)))
            return; // a temporary file renamed into place is a change; one that stays hidden is not
        lock (_folders)
        {
            // Something left a folder (deleted, or moved away): only a full pass can say what is gone.
            if (e.ChangeType == WatcherChangeTypes.Deleted || oldPath is not null && !IsHidden(oldPath))
                _needFull = true;
            if (!hidden && e.ChangeType != WatcherChangeTypes.Deleted)
            {
                // A folder that appeared is walked whole; a file's folder just itself; a folder's own
                // attributes changing changes no photo.
                if (Directory.Exists(e.FullPath))
                {
                    if (e.ChangeType is WatcherChangeTypes.Created or WatcherChangeTypes.Renamed)
                        _folders[e.FullPath] = true;
                }
                else if (Path.GetDirectoryName(e.FullPath) is { } parent)
                    _folders.TryAdd(parent, false);
            }
        }
        Interlocked.Exchange(ref _lastEventTicks, DateTime.UtcNow.Ticks);
        Interlocked.Exchange(ref _dirty, 1);
    }

    readonly Dictionary<string, bool> _folders = new(StringComparer.Ordinal);
    bool _needFull;

    /// <summary>
    /// Takes what the events named since the last call: the folders to walk, or null when only a
    /// full pass will do (something was deleted or moved away, or events were lost).
    /// </summary>
    public IReadOnlyCollection<ScanFolder>? TakeFolders()
    {
        lock (_folders)
        {
            var folders = _needFull ? null : _folders.Select(f => new ScanFolder(f.Key, f.Value)).ToList();
            _folders.Clear();
            _needFull = false;
            return folders;
        }
    }

    void OnError(object sender, ErrorEventArgs e)
    {
        Exception error = e.GetException();
        lock (_folders)
            _needFull = true;
        if (error is InternalBufferOverflowException)
        {
            Interlocked.Exchange(ref _overflowed, 1);
            Interlocked.Exchange(ref _dirty, 1);
            Interlocked.Exchange(ref _lastEventTicks, DateTime.UtcNow.Ticks);
            return;
        }
        // The watch limit reached inside a new folder, or the watcher failed: events are no longer complete.
        Problem = Explain(error);
        Interlocked.Exchange(ref _overflowed, 1);
        Interlocked.Exchange(ref _dirty, 1);
    }

    bool IsHidden(string fullPath)
    {
        if (_excluded is not null && (fullPath == _excluded || fullPath.StartsWith(_excluded + "/", StringComparison.Ordinal)))
            return true;
        if (_catalogFile is not null && fullPath.StartsWith(_catalogFile, StringComparison.Ordinal))
            return true;
        string relative = Path.GetRelativePath(_root, fullPath);
        return relative.Split(Path.DirectorySeparatorChar).Any(part => part.StartsWith('.') && part is not "." and not "..");
    }

    static string Explain(Exception e) =>
        e.Message.Contains("inotify", StringComparison.OrdinalIgnoreCase)
            ? $"the inotify watch limit is reached ({e.Message.ReplaceLineEndings(" ").Trim()}); raise it with " +
              "'sudo sysctl fs.inotify.max_user_watches=1048576' (and in /etc/sysctl.d/ to keep it)"
            : $"file-system events are not available ({e.Message.ReplaceLineEndings(" ").Trim()})";

    public void Dispose() => _watcher?.Dispose();
}
