using SkiaSharp;

namespace Glimpse.Imaging;

/// <summary>Encodes an <see cref="RgbImage"/> as PNG or JPEG (thumbnails, <c>glimpse preprocess --png</c>).</summary>
internal static class ImageEncoder
{
    internal static byte[] Encode(RgbImage image, SKEncodedImageFormat format, int quality)
    {
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        Span<byte> rgba = bitmap.GetPixelSpan();
        for (int i = 0, p = 0; p < image.Pixels.Length; i += 4, p += 3)
        {
            rgba[i] = image.Pixels[p];
            rgba[i + 1] = image.Pixels[p + 1];
            rgba[i + 2] = image.Pixels[p + 2];
            rgba[i + 3] = 255;
        }
        using SKData data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    /// <summary>A lossless PNG of the picture.</summary>
    public static byte[] Png(RgbImage image) => Encode(image, SKEncodedImageFormat.Png, 100);

    /// <summary>A JPEG of the picture at <paramref name="quality"/> (1-100).</summary>
    public static byte[] Jpeg(RgbImage image, int quality) => Encode(image, SKEncodedImageFormat.Jpeg, quality);
}
