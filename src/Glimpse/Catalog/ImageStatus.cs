namespace Glimpse.Catalog;

/// <summary>Where an image is in its life. Stored as these integers; the order matters: unfinished rows are &lt; Done.</summary>
public enum ImageStatus
{
    Pending = 0,
    Claimed = 1,
    Done = 2,
    Failed = 3,

    /// <summary>Not found by the last complete scan. Kept, vector and all, until <c>glimpse prune</c>, so a moved file reuses its vector.</summary>
    Missing = 4,
}
