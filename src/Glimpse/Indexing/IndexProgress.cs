namespace Glimpse.Indexing;

/// <summary>
/// Live counters of one indexing run, updated by the pipeline and read by progress displays
/// from another thread.
/// </summary>
public sealed class IndexProgress
{
    long _found, _newOrChanged, _done, _failed, _left, _missing, _reused, _settling;
    volatile bool _scanComplete;

    /// <summary>Image files the scan has seen so far.</summary>
    public long Found => Interlocked.Read(ref _found);

    /// <summary>Files the scan added or found changed.</summary>
    public long NewOrChanged => Interlocked.Read(ref _newOrChanged);

    /// <summary>Images this process committed with a vector.</summary>
    public long Done => Interlocked.Read(ref _done);

    /// <summary>Images this process recorded as failed.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>Unfinished images in the catalog, as this process last knew (other processes may take some).</summary>
    public long Left => Math.Max(0, Interlocked.Read(ref _left));

    public bool ScanComplete => _scanComplete;

    /// <summary>Indexed images the scan no longer found (marked missing).</summary>
    public long Missing => Interlocked.Read(ref _missing);

    /// <summary>Images whose vector was reused from the same content at another path (moved or copied): no inference.</summary>
    public long Reused => Interlocked.Read(ref _reused);

    /// <summary>Files the scan held back because they changed within the settle time (still being written, perhaps).</summary>
    public long Settling => Interlocked.Read(ref _settling);

    internal void AddSettling(long count) => Interlocked.Add(ref _settling, count);

    internal void AddMissing(long count) => Interlocked.Add(ref _missing, count);

    internal void AddReused(long count) => Interlocked.Add(ref _reused, count);

    internal void AddFound(long files, long newOrChanged)
    {
        Interlocked.Add(ref _found, files);
        Interlocked.Add(ref _newOrChanged, newOrChanged);
        Interlocked.Add(ref _left, newOrChanged);
    }

    internal void SetLeft(long left) => Interlocked.Exchange(ref _left, left);

    internal void AddCommitted(long done, long failed)
    {
        Interlocked.Add(ref _done, done);
        Interlocked.Add(ref _failed, failed);
        Interlocked.Add(ref _left, -(done + failed));
    }

    internal void MarkScanComplete() => _scanComplete = true;
}
