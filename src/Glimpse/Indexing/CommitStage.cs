using System.Threading.Channels;
using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>
/// The pipeline's last stage: commits each encoded batch in one fenced transaction (vectors and
/// statuses together). It runs until the encoders are done, even after a stop, so that nothing
/// already computed is thrown away; only a fatal error ends it early.
/// </summary>
internal sealed class CommitStage(ICatalog catalog, string owner, ClaimStage claims, IndexProgress progress, Action<string> warn)
{
    readonly ICatalog _catalog = catalog;
    readonly string _owner = owner;
    readonly ClaimStage _claims = claims;
    readonly IndexProgress _progress = progress;
    readonly Action<string> _warn = warn;

    public async Task RunAsync(ChannelReader<EncodedBatch> reader, CancellationToken fatal)
    {
        await foreach (EncodedBatch batch in reader.ReadAllAsync(fatal).ConfigureAwait(false))
        {
            CommitResult result = _catalog.Commit(_owner, batch.Done, batch.Failed);
            _claims.Settled(batch.Done.Count + batch.Failed.Count);
            _progress.AddCommitted(result.Done, result.Failed);
            _progress.AddReused(Math.Min(batch.Reused, result.Done));
            if (result.Rejected > 0)
                _warn($"{result.Rejected} images were taken over by another worker after this one's lease ran out; their results were dropped.");
        }
    }
}
