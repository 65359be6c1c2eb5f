using ImageMagick;

namespace Glimpse.Imaging;

/// <summary>
/// HEIF/HEIC, AVIF, JPEG XL, TIFF, GIF and CMYK/YCCK JPEGs through ImageMagick
/// (Magick.NET, with libheif, libjxl, libtiff, libjpeg and libpng inside), measured here to read
/// every one of them (NOTES.md). Pixels come out as 8-bit RGB without colour management and with
/// alpha dropped, not composited, as PIL's <c>convert("RGB")</c> does; CMYK is converted with the
/// same formula PIL uses, R = (255 - C)(255 - K) / 255, after libjpeg's Adobe inversion.
/// </summary>
/// <remarks>
/// HEIF and AVIF are turned by the file's own rotation and mirror boxes (libheif applies them) and
/// never again by EXIF: that is the HEIF rule, which libvips, pillow-heif and phones follow. TIFF
/// and JPEG XL follow their orientation tag. Only the first frame or page is read.
/// </remarks>
internal static class MagickImageDecoder
{
    static MagickImageDecoder()
    {
        // Never spill a pixel cache to disk: an image too large for memory is a failed file, not
        // gigabytes in /tmp. Width and height caps stop headers that claim absurd sizes early.
        ResourceLimits.Disk = 0;
        ResourceLimits.Width = 1u << 17;
        ResourceLimits.Height = 1u << 17;
    }

    public static RgbImage Decode(byte[] encoded, DecodeOptions options, ImageFormat format)
    {
        var settings = new MagickReadSettings { Format = MagickFormatOf(format), FrameIndex = 0, FrameCount = 1 };
        try
        {
            var info = new MagickImageInfo(encoded, settings);
            ImageDecoder.CheckPixelLimit((int)Math.Min(info.Width, int.MaxValue), (int)Math.Min(info.Height, int.MaxValue), options);
            // Also a cap on what a header may hide (a HEIF grid, a TIFF's later strips).
            ResourceLimits.Area = (ulong)(options.MaxMegapixels * 1e6 * 1.05);

            // libjpeg's DCT scaling, as Skia's for the other JPEGs. NB: only for a picture at least
            // twice the size asked for: libjpeg-turbo also scales *up* to meet a larger size.
            int side = options.TargetShortSide * options.ShrinkHeadroom;
            if (format == ImageFormat.Jpeg && options.ShrinkOnLoad && Math.Min(info.Width, info.Height) >= 2 * side)
                settings.SetDefine(MagickFormat.Jpeg, "size", JpegSizeHint(info.Width, info.Height, side));

            using var image = new MagickImage();
            // libjpeg reports a cut-off file as a warning and fills the rest grey; Skia (and PIL)
            // refuse it, and so does Glimpse: half a photo must not become a vector.
            string? damage = null;
            image.Warning += (_, e) => damage ??= e.Exception is MagickCorruptImageWarningException ? e.Message : null;
            image.Read(encoded, settings);
            if (damage is not null && format == ImageFormat.Jpeg)
                throw new ImageDecodeException(damage.Contains("Premature end", StringComparison.OrdinalIgnoreCase)
                    ? "truncated JPEG: the image data ends early"
                    : $"corrupt JPEG: {ImageDecoder.OneLine(damage)}");
            bool orient = format is ImageFormat.Tiff or ImageFormat.JpegXl or ImageFormat.Jpeg or ImageFormat.Png or ImageFormat.Gif;
            bool swap = orient && image.Orientation is Orientation.LeftTop or Orientation.RightTop or Orientation.RightBottom or Orientation.LeftBottom;
            if (orient)
                image.AutoOrient();
            if (image.ColorSpace is not (ColorSpace.sRGB or ColorSpace.RGB or ColorSpace.Gray or ColorSpace.LinearGray))
                image.ColorSpace = ColorSpace.sRGB; // CMYK (PIL's formula), YCbCr TIFFs, Lab: what PIL shows is RGB

            ShrinkForTarget(image, options);

            int w = (int)image.Width, h = (int)image.Height;
            using IUnsafePixelCollection<byte> pixels = image.GetPixelsUnsafe();
            byte[] rgb = pixels.ToByteArray(PixelMapping.RGB) ?? throw new ImageDecodeException($"cannot decode {Name(format)}: no pixels");
            // A JPEG decoded at a reduced DCT scale keeps its full size for the resize geometry.
            var (fullW, fullH) = swap ? ((int)info.Height, (int)info.Width) : ((int)info.Width, (int)info.Height);
            return new RgbImage(w, h, rgb, fullW, fullH);
        }
        catch (MagickResourceLimitErrorException e)
        {
            throw new ImageDecodeException($"{Name(format)} is too large to decode within the limits: {ImageDecoder.OneLine(e.Message)}", e);
        }
        catch (MagickException e)
        {
            throw new ImageDecodeException($"corrupt or unsupported {Name(format)}: {Describe(e)}", e);
        }
    }

    /// <summary>
    /// The <c>jpeg:size</c> hint that makes ImageMagick decode at the smallest DCT scale M/8 whose
    /// short side is still at least <paramref name="side"/>. ImageMagick turns a hint into
    /// <c>M = round(8 x hint / size)</c> (rounding to nearest, and by the tighter side), so a
    /// square hint of 448 on a 4000x3000 photo gave 1/8 (500x375, short of 2x S); a hint of
    /// exactly the picture scaled by the wanted M/8 gives that M.
    /// </summary>
    internal static string JpegSizeHint(uint width, uint height, int side)
    {
        // Only 1/8, 1/4 and 1/2, as Skia's path: the other eighths are not faithful (SkiaImageDecoder).
        uint shortSide = Math.Min(width, height);
        uint m = 8;
        foreach (uint eighths in (ReadOnlySpan<uint>)[1, 2, 4])
        {
            if (shortSide * eighths / 8 >= side)
            {
                m = eighths;
                break;
            }
        }
        return FormattableString.Invariant($"{width * m / 8}x{height * m / 8}");
    }

    /// <summary>
    /// Averages a picture far larger than needed down by a whole factor (box filter, as a DCT-scaled
    /// JPEG decode does) to no less than the target times the headroom, so that the pixels copied
    /// out and resampled are few: a 12 MP HEIC then costs its HEVC decode, not also 36 MB of copying
    /// and a 12 MP resample. The fixtures stay within tolerance (FormatFixtureTests).
    /// </summary>
    static void ShrinkForTarget(MagickImage image, DecodeOptions options)
    {
        if (!options.ShrinkOnLoad)
            return;
        int need = options.TargetShortSide * options.ShrinkHeadroom;
        int factor = (int)(Math.Min(image.Width, image.Height) / (uint)Math.Max(1, need));
        if (factor >= 2)
            image.Scale(image.Width / (uint)factor, image.Height / (uint)factor);
    }

    static MagickFormat MagickFormatOf(ImageFormat format) => format switch
    {
        ImageFormat.Heif => MagickFormat.Heic,
        ImageFormat.Avif => MagickFormat.Avif,
        ImageFormat.JpegXl => MagickFormat.Jxl,
        ImageFormat.Tiff => MagickFormat.Tiff,
        ImageFormat.Gif => MagickFormat.Gif,
        ImageFormat.Png => MagickFormat.Png,
        ImageFormat.Jpeg => MagickFormat.Jpeg,
        ImageFormat.WebP => MagickFormat.WebP,
        ImageFormat.Bmp => MagickFormat.Bmp,
        _ => MagickFormat.Unknown,
    };

    internal static string Name(ImageFormat format) => format switch
    {
        ImageFormat.Heif => "HEIF",
        ImageFormat.Avif => "AVIF",
        ImageFormat.JpegXl => "JPEG XL",
        ImageFormat.Raw => "camera RAW",
        _ => format.ToString().ToUpperInvariant(),
    };

    /// <summary>ImageMagick's message without its source location and temp-file names.</summary>
    internal static string Describe(MagickException e)
    {
        string message = ImageDecoder.OneLine(e.Message);
        int at = message.IndexOf(" @ ", StringComparison.Ordinal);
        if (at > 0)
            message = message[..at];
        return System.Text.RegularExpressions.Regex.Replace(message, @"\s*`[^']*'", "").Trim();
    }
}
