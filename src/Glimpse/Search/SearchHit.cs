namespace Glimpse.Search;

/// <summary>One result: the image's path (relative to the library root), its row in the set, and the cosine similarity.</summary>
public sealed record SearchHit(string Path, int Row, float Score)
{
    /// <summary>The image's catalog id, where the search knows it (ANN results; exact results map Row through the set).</summary>
    public long? ImageId { get; init; }
}
