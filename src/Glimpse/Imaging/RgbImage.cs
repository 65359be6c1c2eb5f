namespace Glimpse.Imaging;

/// <summary>An 8-bit RGB image, rows top to bottom, 3 bytes per pixel, no padding.</summary>
internal sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels, int sourceWidth = 0, int sourceHeight = 0)
    {
        if (pixels.Length < checked(width * height * 3))
            throw new ArgumentException("The pixel buffer is smaller than width * height * 3.", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
        SourceWidth = sourceWidth > 0 ? sourceWidth : width;
        SourceHeight = sourceHeight > 0 ? sourceHeight : height;
    }

    /// <summary>
    /// The upright size of the full-resolution image. Larger than <see cref="Width"/> x
    /// <see cref="Height"/> when the decoder shrank it on load; resize geometry uses this size
    /// so a shrunk decode lands on the same pixels as a full one.
    /// </summary>
    public int SourceWidth { get; }
    public int SourceHeight { get; }

    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }
}
