namespace Glimpse.Catalog;

/// <summary>Where an image is in its life. Stored as these integers; the order matters: unfinished rows are &lt; Done.</summary>
public enum ImageStatus
{
    Pending = 0,
    Claimed = 1,
    Done = 2,
    Failed = 3,
}
