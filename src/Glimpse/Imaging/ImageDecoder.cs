namespace Glimpse.Imaging;

/// <summary>
/// Turns encoded image bytes into upright 8-bit RGB pixels: the one place that routes each format,
/// decided by the bytes (a HEIC saved as .jpg is read as HEIC), to the library that reads it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>JPEG (RGB and grey), PNG, WebP, BMP: Skia. A JPEG large enough to shrink on load (a
/// camera photo is never fully decoded to make 224 px) goes to libvips (<see cref="VipsJpegDecoder"/>),
/// whose libjpeg-turbo decodes the same pixels at a reduced DCT scale for about 15 % less CPU than
/// Skia's or ImageMagick's (measured: the decode benchmark; a test checks the pixels agree).</item>
/// <item>HEIF/HEIC, AVIF, JPEG XL, TIFF, GIF, CMYK/YCCK JPEGs: ImageMagick
/// (<see cref="MagickImageDecoder"/>): Skia has no HEIF, AVIF, JPEG XL or TIFF decoder and paints a
/// GIF's transparent palette entry black where PIL keeps its colour (measured: HardCaseTests); CMYK
/// goes where PIL's conversion is reproduced exactly (checked pixel by pixel on a YCCK photo).</item>
/// <item>Camera RAW: the largest embedded preview, or the developed sensor data (<see cref="RawImageDecoder"/>).</item>
/// </list>
/// No colour management is applied (no ICC transform), as the reference PIL pipeline applies none;
/// alpha is dropped, not composited, as open_clip's <c>convert("RGB")</c> does. Every path checks
/// the pixel limit from the header before it allocates.
/// </remarks>
internal static class ImageDecoder
{
    /// <param name="fileName">The file's name, for the one case bytes cannot settle: a TIFF-based RAW (NEF, ARW, PEF) without a DNG tag.</param>
    public static RgbImage Decode(byte[] encoded, DecodeOptions options, string? fileName = null)
    {
        if (encoded.Length == 0)
            throw new ImageDecodeException("empty file (0 bytes)");
        ImageFormat format = ImageFormatDetector.Detect(encoded.AsSpan(0, Math.Min(encoded.Length, ImageFormatDetector.HeaderBytes)), fileName);
        try
        {
            return DecodeAs(format, encoded, options);
        }
        catch (Exception e) when (e is OutOfMemoryException or InsufficientMemoryException)
        {
            throw new ImageDecodeException("the image is too large to decode in the memory available (see --max-megapixels)", e);
        }
    }

    static RgbImage DecodeAs(ImageFormat format, byte[] encoded, DecodeOptions options)
    {
        var frame = format == ImageFormat.Jpeg ? EmbeddedJpegs.ReadFrame(encoded) : null;
        return format switch
        {
            ImageFormat.Jpeg when frame is { Components: 4 } => MagickImageDecoder.Decode(encoded, options, format),
            // A JPEG that shrinks on load (a camera photo): libvips decodes the same pixels as Skia
            // for about 15 % less CPU (the decode benchmark); smaller ones stay with Skia.
            ImageFormat.Jpeg when options.ShrinkOnLoad && frame is { } f && Math.Min(f.Width, f.Height) >= 2 * options.TargetShortSide * options.ShrinkHeadroom
                => VipsJpegDecoder.Decode(encoded, options, f.Width, f.Height),
            ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.WebP or ImageFormat.Bmp => SkiaImageDecoder.Decode(encoded, options),
            ImageFormat.Raw => RawImageDecoder.Decode(encoded, options),
            ImageFormat.Unknown => throw Unrecognised(encoded),
            _ => MagickImageDecoder.Decode(encoded, options, format),
        };
    }

    /// <summary>Tells a cut-off image (the start of a known signature) from a file that is no image at all.</summary>
    static ImageDecodeException Unrecognised(ReadOnlySpan<byte> head)
    {
        bool known = head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) || head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47]) || head.StartsWith("GIF8"u8)
                     || head.StartsWith("RIFF"u8) || head.StartsWith("BM"u8) || head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8);
        return new ImageDecodeException(known
            ? "truncated or corrupt image: the header cannot be read"
            : "not a recognised image format");
    }

    internal static void CheckPixelLimit(int width, int height, DecodeOptions options)
    {
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException($"invalid dimensions {width}x{height}");
        double megapixels = (double)width * height / 1e6;
        if (megapixels > options.MaxMegapixels)
            throw new ImageDecodeException(
                $"image is {width}x{height} ({megapixels:0.##} MP), over the {options.MaxMegapixels:0.##} MP limit (--max-megapixels)");
    }

    internal static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();
}
