namespace Glimpse.Imaging;

/// <summary>Makes a JPEG thumbnail that fits a square, decoding with shrink-on-load and resizing with the antialiased resampler.</summary>
public static class Thumbnailer
{
    public static byte[] Make(byte[] encoded, int maxSide, DecodeOptions? decode = null, string? fileName = null)
    {
        var options = (decode ?? DecodeOptions.Default) with { TargetShortSide = Math.Max(1, maxSide / 2) };
        RgbImage image = ImageDecoder.Decode(encoded, options, fileName);
        double scale = Math.Min(1.0, (double)maxSide / Math.Max(image.Width, image.Height));
        int w = Math.Max(1, (int)Math.Round(image.Width * scale)), h = Math.Max(1, (int)Math.Round(image.Height * scale));
        RgbImage small = Resampler.ResizeWindow(image, w, h, 0, 0, w, h, ResampleFilter.Bicubic);

        return ImageEncoder.Jpeg(small, 85);
    }
}
