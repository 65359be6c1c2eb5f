using System.Threading.Channels;
using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>
/// The pipeline's claim stage: leases batches of unfinished images for this run and feeds them to
/// the decoders, while the scan registers more. It also keeps count of the images in hand, which
/// tells a claim this run lost (its reply never arrived) from one it is still working on.
/// </summary>
internal sealed class ClaimStage(ICatalog catalog, string owner, IndexingOptions options, Action<string> warn)
{
    /// <summary>How often an idle claimer asks again while other workers still hold leases.</summary>
    static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How often the claimer asks while the scan is still registering files.</summary>
    static readonly TimeSpan ScanPoll = TimeSpan.FromMilliseconds(100);

    readonly ICatalog _catalog = catalog;
    readonly string _owner = owner;
    readonly IndexingOptions _options = options;
    readonly Action<string> _warn = warn;

    /// <summary>Images claimed by this run and not yet committed (or dropped): zero means nothing is in hand.</summary>
    long _inHand;

    /// <summary>Claims until nothing is unfinished once <paramref name="scan"/> has ended, or until stopped.</summary>
    public async Task RunAsync(Task scan, ChannelWriter<ClaimedImage> writer, CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                IReadOnlyList<ClaimedImage> claimed = _catalog.Claim(_owner, _options.BatchSize, _options.Lease);
                Interlocked.Add(ref _inHand, claimed.Count);
                if (claimed.Count > 0)
                {
                    foreach (var image in claimed)
                        await writer.WriteAsync(image, token).ConfigureAwait(false);
                    continue;
                }

                if (scan.IsCompleted)
                {
                    // Nothing claimable. Done when nothing is unfinished; otherwise our own batches
                    // are still in flight, or other workers hold leases that may yet expire.
                    ReleaseAbandoned();
                    if (!_catalog.HasUnfinished())
                        break;
                }
                await Task.Delay(scan.IsCompleted ? IdlePoll : ScanPoll, token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Counts <paramref name="count"/> claimed images as no longer in hand (committed or dropped).</summary>
    public void Settled(int count) => Interlocked.Add(ref _inHand, -count);

    /// <summary>
    /// Gives back claims no live worker will finish: those of dead processes of this machine and
    /// pid namespace, and, when this run holds nothing, those in this worker's own name. A claim
    /// whose reply was lost with the connection leased rows that never arrived; the heartbeat would
    /// renew them forever, and the run would wait for them forever.
    /// </summary>
    public void ReleaseAbandoned()
    {
        bool nothingInHand = Interlocked.Read(ref _inHand) == 0;
        foreach (string owner in _catalog.ListLeaseOwners())
        {
            if (owner != _owner)
            {
                if (WorkerIdentity.IsDeadLocalOwner(owner))
                    _catalog.ReleaseClaims(owner);
            }
            else if (nothingInHand && _catalog.ReleaseClaims(_owner) is var released and > 0)
                _warn($"{released} images leased in this worker's name were not in hand (a claim's reply was lost); released them.");
        }
    }
}
