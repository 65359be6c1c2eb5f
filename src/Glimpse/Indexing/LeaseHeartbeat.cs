using Glimpse.Catalog;
using Glimpse.Imaging;

namespace Glimpse.Indexing;

/// <summary>The index run's lease keeper: renews its claims while it works, and says when it can no longer.</summary>
internal sealed class LeaseHeartbeat(ICatalog catalog, string owner, TimeSpan lease)
{
    readonly ICatalog _catalog = catalog;
    readonly string _owner = owner;
    readonly TimeSpan _lease = lease;

    /// <summary>Set when the heartbeat gave up: the run stops with it instead of working on claims it no longer holds.</summary>
    public Exception? Failure => _failure;

    volatile Exception? _failure;

    /// <summary>
    /// Renews this run's leases every third of the lease. A renewal that fails, or hangs (a locked
    /// catalog, a server away), is tried again; when renewals have been failing or hanging for two
    /// thirds of the lease the run stops with one line: past the lease, other workers take its
    /// claims and its work would be dropped at commit anyway. The time counts from the first
    /// renewal that did not succeed, not from the last success: a process that was frozen (a
    /// suspended laptop) and wakes up renews at once and carries on.
    /// </summary>
    public async Task RunAsync(CancellationTokenSource fatal, CancellationToken token)
    {
        TimeSpan every = _lease / 3;
        TimeSpan giveUpAfter = _lease * 2 / 3;
        System.Diagnostics.Stopwatch? failingFor = null;
        Task? renewal = null;
        Exception? lastError = null;
        try
        {
            while (true)
            {
                await Task.Delay(failingFor is null ? every : TimeSpan.FromMilliseconds(Math.Min(every.TotalMilliseconds, 250)), token).ConfigureAwait(false);
                renewal ??= Task.Run(() => _catalog.RenewLeases(_owner, _lease), CancellationToken.None);
                failingFor ??= System.Diagnostics.Stopwatch.StartNew();
                TimeSpan left = giveUpAfter - failingFor.Elapsed;
                if (left > TimeSpan.Zero)
                    await Task.WhenAny(renewal, Task.Delay(left, token)).ConfigureAwait(false);
                if (renewal.IsCompletedSuccessfully)
                {
                    renewal = null;
                    failingFor = null;
                    lastError = null;
                    continue;
                }
                if (renewal.IsFaulted)
                {
                    lastError = renewal.Exception!.GetBaseException();
                    renewal = null; // try again soon
                }
                if (failingFor.Elapsed >= giveUpAfter)
                {
                    string why = lastError is null ? "the catalog did not answer" : ImageDecoder.OneLine(lastError.Message);
                    _failure = new CatalogException(
                        $"could not renew this run's claims on {_catalog.Location} for {failingFor.Elapsed.TotalSeconds:0} s ({why}); " +
                        $"stopping before its {_lease.TotalSeconds:0} s leases run out and other workers take them. Committed work is safe: run the same command again.",
                        lastError);
                    fatal.Cancel();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
