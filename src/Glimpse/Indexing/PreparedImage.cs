using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>A claimed image after the decode stage: its tensor, the vector its content already has, or why it failed.</summary>
internal sealed record PreparedImage(ClaimedImage Image, float[]? Tensor, FailedImage? Failure)
{
    /// <summary>The vector of the same content found in the catalog (a moved or copied file).</summary>
    public float[]? Reused { get; init; }
    public string? ContentHash { get; init; }

    public static PreparedImage Failed(ClaimedImage image, string stage, string reason) =>
        new(image, null, new FailedImage(image.Id, stage, reason));
}
