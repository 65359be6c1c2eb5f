using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>
/// Whether an index run is working on a catalog right now, and what its claims really are: those
/// of a live worker are in progress; those of a process that died on this machine, or whose lease
/// ran out unrenewed, are abandoned (the next run frees them at once). Status shows a rate and an
/// ETA only while something is working.
/// </summary>
public sealed record IndexActivity(long InProgress, long Abandoned, int Workers)
{
    public bool IsWorking => Workers > 0;

    public static IndexActivity Of(ICatalog catalog)
    {
        long inProgress = 0, abandoned = 0;
        int workers = 0;
        foreach (LeaseHolder holder in catalog.ListLeaseHolders())
        {
            if (holder.LeaseExpired || WorkerIdentity.IsDeadLocalOwner(holder.Owner))
                abandoned += holder.Images;
            else
            {
                inProgress += holder.Images;
                workers++;
            }
        }
        return new IndexActivity(inProgress, abandoned, workers);
    }
}
