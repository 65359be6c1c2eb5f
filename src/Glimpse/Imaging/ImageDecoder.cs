using System.Runtime.InteropServices;
using SkiaSharp;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace Glimpse.Imaging;

/// <summary>
/// Turns encoded image bytes into upright 8-bit RGB pixels, shrinking JPEGs on load.
/// </summary>
/// <remarks>
/// Skia (the decoders of Chromium) reads JPEG, PNG, WebP, GIF and BMP and can decode a JPEG at
/// 1/8..8/8 of its size in the DCT, so a 12 MP photo is never fully decoded to make 224 px.
/// Skia has no TIFF decoder: what Skia does not recognise goes to ImageSharp, which does.
/// No colour management is applied (no ICC transform), as the reference PIL pipeline applies none;
/// alpha is dropped, not composited, as open_clip's <c>convert("RGB")</c> does.
/// </remarks>
internal static class ImageDecoder
{
    public static RgbImage Decode(byte[] encoded, DecodeOptions options)
    {
        if (encoded.Length == 0)
            throw new ImageDecodeException("empty file (0 bytes)");

        // NB: the codec takes ownership of the stream and disposes it with itself.
        var stream = new SKMemoryStream(encoded);
        using SKCodec? codec = SKCodec.Create(stream, out _);
        if (codec is not null)
            return DecodeWithSkia(codec, options);
        stream.Dispose();
        return DecodeWithImageSharp(encoded, options);
    }

    static RgbImage DecodeWithSkia(SKCodec codec, DecodeOptions options)
    {
        SKImageInfo info = codec.Info;
        CheckPixelLimit(info.Width, info.Height, options);

        SKSizeI size = new(info.Width, info.Height);
        if (options.ShrinkOnLoad && codec.EncodedFormat == SKEncodedImageFormat.Jpeg)
            size = ChooseJpegScale(codec, options.TargetShortSide * options.ShrinkHeadroom);

        var target = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        byte[] rgba = new byte[target.BytesSize];
        SKCodecResult result;
        GCHandle pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        try
        {
            result = codec.GetPixels(target, pin.AddrOfPinnedObject());
        }
        finally
        {
            pin.Free();
        }

        switch (result)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput:
                throw new ImageDecodeException($"truncated {FormatName(codec)}: the image data ends early");
            case SKCodecResult.ErrorInInput:
                throw new ImageDecodeException($"corrupt {FormatName(codec)}: the image data is invalid");
            default:
                throw new ImageDecodeException($"cannot decode {FormatName(codec)}: {result}");
        }

        var rgb = new RgbImage(size.Width, size.Height, DropAlpha(rgba, size.Width * size.Height));
        int orientation = (int)codec.EncodedOrigin;
        RgbImage upright = ExifOrientation.Apply(rgb, orientation);
        bool swap = ExifOrientation.SwapsAxes(orientation);
        return new RgbImage(upright.Width, upright.Height, upright.Pixels,
            swap ? info.Height : info.Width, swap ? info.Width : info.Height);
    }

    /// <summary>The smallest DCT scale (M/8) whose short side still reaches <paramref name="minShortSide"/>.</summary>
    static SKSizeI ChooseJpegScale(SKCodec codec, int minShortSide)
    {
        for (int eighths = 1; eighths < 8; eighths++)
        {
            SKSizeI scaled = codec.GetScaledDimensions(eighths / 8f);
            if (Math.Min(scaled.Width, scaled.Height) >= minShortSide)
                return scaled;
        }
        return new SKSizeI(codec.Info.Width, codec.Info.Height);
    }

    static RgbImage DecodeWithImageSharp(byte[] encoded, DecodeOptions options)
    {
        try
        {
            IImageInfo? info = Image.Identify(encoded);
            if (info is null)
                throw Unrecognised(encoded);
            CheckPixelLimit(info.Width, info.Height, options);

            using Image<Rgb24> image = Image.Load<Rgb24>(encoded);
            image.Mutate(x => x.AutoOrient());
            var pixels = new byte[image.Width * image.Height * 3];
            image.CopyPixelDataTo(pixels);
            return new RgbImage(image.Width, image.Height, pixels);
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (UnknownImageFormatException)
        {
            throw Unrecognised(encoded);
        }
        catch (Exception e) when (e is ImageFormatException or NotSupportedException or InvalidOperationException
                                      or ArgumentException or IndexOutOfRangeException or OutOfMemoryException
                                      or InvalidDataException or EndOfStreamException or OverflowException)
        {
            throw new ImageDecodeException($"corrupt image: {OneLine(e.Message)}", e);
        }
        catch (NullReferenceException e)
        {
            // NB: ImageSharp 2.1 dereferences missing JPEG segments of some damaged files; that is
            // a broken file, not a broken run, and "NullReferenceException" tells a user nothing.
            throw new ImageDecodeException("corrupt image: required image data is missing (the decoder gave up)", e);
        }
    }

    /// <summary>Tells a cut-off image (a known signature, too little data) from a file that is no image at all.</summary>
    static ImageDecodeException Unrecognised(byte[] encoded)
    {
        ReadOnlySpan<byte> head = encoded;
        bool known = head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) || head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47]) || head.StartsWith("GIF8"u8)
                     || head.StartsWith("RIFF"u8) || head.StartsWith("BM"u8) || head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8);
        return new ImageDecodeException(known
            ? "truncated or corrupt image: the header cannot be read"
            : "not a recognised image format");
    }

    static void CheckPixelLimit(int width, int height, DecodeOptions options)
    {
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException($"invalid dimensions {width}x{height}");
        double megapixels = (double)width * height / 1e6;
        if (megapixels > options.MaxMegapixels)
            throw new ImageDecodeException(
                $"image is {width}x{height} ({megapixels:0} MP), over the {options.MaxMegapixels:0.#} MP limit (--max-megapixels)");
    }

    static byte[] DropAlpha(byte[] rgba, int pixelCount)
    {
        var rgb = new byte[pixelCount * 3];
        for (int i = 0, j = 0; i < pixelCount; i++, j += 4)
        {
            rgb[i * 3] = rgba[j];
            rgb[i * 3 + 1] = rgba[j + 1];
            rgb[i * 3 + 2] = rgba[j + 2];
        }
        return rgb;
    }

    static string FormatName(SKCodec codec) => codec.EncodedFormat.ToString().ToUpperInvariant();

    internal static string OneLine(string message) =>
        message.ReplaceLineEndings(" ").Trim();
}
