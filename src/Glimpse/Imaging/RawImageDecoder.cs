using ImageMagick;

namespace Glimpse.Imaging;

/// <summary>
/// Camera RAW files (DNG, CR2, CR3, NEF, ARW, ORF, RW2, RAF, PEF, ...) as photo managers show
/// them: the largest embedded preview JPEG when its short side is at least twice the model's
/// input; otherwise the sensor data developed with default settings (libraw, through
/// ImageMagick); otherwise the largest preview there is. A preview is turned by the RAW's own
/// orientation (its TIFF or CR3 metadata), or by the preview's EXIF where the RAW has none (RAF).
/// </summary>
/// <remarks>
/// Every RAW format embeds its previews as plain JPEG streams, so they are found by their
/// markers rather than by parsing nine container formats; each candidate's frame header must
/// parse, and it must decode. libraw's own thumbnail choice (ImageMagick's
/// <c>dng:read-thumbnail</c>) is not used: it takes the first thumbnail, not the largest (a
/// 256 px one of a DNG whose 1024 px preview is the reference), and fails on files whose
/// sensor data was stripped.
/// </remarks>
internal static class RawImageDecoder
{
    public static RgbImage Decode(byte[] encoded, DecodeOptions options)
    {
        var previews = EmbeddedJpegs.Find(encoded).OrderByDescending(p => (long)p.Width * p.Height).ToList();
        int? orientation = RawOrientation.Read(encoded);
        int wanted = options.TargetShortSide * options.ShrinkHeadroom;

        if (previews.Count == 0 || Math.Min(previews[0].Width, previews[0].Height) < wanted)
        {
            try
            {
                return Develop(encoded, options);
            }
            catch (ImageDecodeException) when (previews.Count > 0)
            {
                // No usable sensor data (stripped, or a format libraw does not know): the preview will do.
            }
        }
        if (previews.Count == 0)
            throw new ImageDecodeException("camera RAW with neither an embedded preview nor readable sensor data");

        ImageDecodeException? last = null;
        foreach (var preview in previews)
        {
            try
            {
                ImageDecoder.CheckPixelLimit(preview.Width, preview.Height, options);
                RgbImage image = SkiaImageDecoder.Decode(encoded.AsMemory(preview.Offset), options, applyOrientation: orientation is null);
                if (orientation is not { } turn || turn == 1)
                    return image;
                RgbImage upright = ExifOrientation.Apply(image, turn);
                bool swap = ExifOrientation.SwapsAxes(turn);
                return new RgbImage(upright.Width, upright.Height, upright.Pixels,
                    swap ? image.SourceHeight : image.SourceWidth, swap ? image.SourceWidth : image.SourceHeight);
            }
            catch (ImageDecodeException e)
            {
                last = e; // a damaged preview: try the next largest
            }
        }
        throw new ImageDecodeException($"camera RAW whose embedded previews cannot be decoded: {last!.Message}", last);
    }

    /// <summary>The sensor data through libraw with its defaults (white balance as shot, sRGB, 8 bits); libraw turns it upright.</summary>
    static RgbImage Develop(byte[] encoded, DecodeOptions options)
    {
        try
        {
            var settings = new MagickReadSettings { Format = MagickFormat.Dng };
            var info = new MagickImageInfo(encoded, settings);
            ImageDecoder.CheckPixelLimit((int)info.Width, (int)info.Height, options);
            using var image = new MagickImage(encoded, settings);
            if (image.ColorSpace != ColorSpace.sRGB)
                image.ColorSpace = ColorSpace.sRGB;
            using IUnsafePixelCollection<byte> pixels = image.GetPixelsUnsafe();
            byte[] rgb = pixels.ToByteArray(PixelMapping.RGB) ?? throw new ImageDecodeException("camera RAW: no pixels");
            return new RgbImage((int)image.Width, (int)image.Height, rgb);
        }
        catch (MagickException e)
        {
            throw new ImageDecodeException($"camera RAW sensor data cannot be developed: {MagickImageDecoder.Describe(e)}", e);
        }
    }
}
