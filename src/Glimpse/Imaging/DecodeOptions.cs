namespace Glimpse.Imaging;

/// <summary>How images are decoded before preprocessing.</summary>
public sealed record DecodeOptions
{
    /// <summary>
    /// The short side the model needs (the preprocessing's S). A JPEG is decoded at the smallest
    /// DCT scale that keeps at least <see cref="ShrinkHeadroom"/> times this on its short side.
    /// The default is 224.
    /// </summary>
    public int TargetShortSide { get; init; } = 224;

    /// <summary>
    /// Refuse images whose header declares more pixels than this (a decompression-bomb guard:
    /// a 50000x50000 PNG would otherwise ask for 7.5 GB). The default is 150 megapixels, above
    /// the largest phone and camera sensors.
    /// </summary>
    public double MaxMegapixels { get; init; } = 150;

    /// <summary>
    /// Decode JPEGs at a reduced DCT scale (shrink-on-load). About 8x less CPU for a 12 MP photo;
    /// the tensor stays within the reference tolerance. The default is true.
    /// </summary>
    public bool ShrinkOnLoad { get; init; } = true;

    /// <summary>
    /// How much larger than the target the shrunk decode stays. Two keeps the antialiased resize
    /// within the reference tolerance; less aliases visibly. The default is 2.
    /// </summary>
    public int ShrinkHeadroom { get; init; } = 2;

    public static DecodeOptions Default { get; } = new();
}
