using NetVips;

namespace Glimpse.Imaging;

/// <summary>
/// Camera-sized JPEGs through libvips (NetVips): decoded at the reduced DCT scale (1/2, 1/4, 1/8)
/// that keeps twice the model's size on the short side, by the libjpeg-turbo build that the decode
/// benchmark measured fastest (about 15 % less CPU than Skia's or ImageMagick's, same pixels).
/// </summary>
internal static class VipsJpegDecoder
{
    static VipsJpegDecoder()
    {
        // Glimpse decodes on every core itself: one libvips thread per decode, and no operation
        // cache (it would keep decoded pictures alive between files).
        NetVips.Cache.Max = 0;
        NetVips.Cache.MaxFiles = 0;
        NetVips.Cache.MaxMem = 0;
        NetVips.NetVips.Concurrency = 1;
    }

    /// <param name="width">The picture's width from its frame header (stored, before any EXIF turn).</param>
    public static RgbImage Decode(byte[] jpeg, DecodeOptions options, int width, int height)
    {
        ImageDecoder.CheckPixelLimit(width, height, options);
        int side = options.TargetShortSide * options.ShrinkHeadroom;
        int shrink = 1;
        while (shrink < 8 && Math.Min(width, height) / (shrink * 2) >= side)
            shrink *= 2;
        try
        {
            // fail_on=truncated: a cut-off file is an error, as Skia and PIL have it, not a grey-padded picture.
            using Image loaded = Image.NewFromBuffer(jpeg, kwargs: new VOption { { "shrink", shrink }, { "fail_on", Enums.FailOn.Truncated } });
            using Image upright = loaded.Autorot();
            bool swapped = upright.Width != loaded.Width;
            using Image rgb = upright.Bands switch
            {
                3 => upright.Copy(),
                1 => upright.Colourspace(Enums.Interpretation.Srgb),
                _ => upright.ExtractBand(0, 3),
            };
            if (rgb.Format != Enums.BandFormat.Uchar || rgb.Bands != 3)
                throw new ImageDecodeException($"cannot decode JPEG: {rgb.Bands} bands of {rgb.Format}");
            byte[] pixels = rgb.WriteToMemory<byte>();
            return new RgbImage(rgb.Width, rgb.Height, pixels, swapped ? height : width, swapped ? width : height);
        }
        catch (VipsException e)
        {
            string message = ImageDecoder.OneLine(e.Message);
            throw new ImageDecodeException(message.Contains("premature end", StringComparison.OrdinalIgnoreCase) || message.Contains("truncated", StringComparison.OrdinalIgnoreCase)
                ? "truncated JPEG: the image data ends early"
                : $"corrupt JPEG: {message}", e);
        }
    }
}
