using SkiaSharp;

namespace Glimpse.Tests.Support;

/// <summary>Makes small, distinct, real JPEG and PNG files for indexing tests.</summary>
internal static class TestImages
{
    /// <summary>Writes <paramref name="count"/> images (every third a PNG) under <paramref name="dir"/>, some in sub-folders.</summary>
    public static List<string> Write(string dir, int count, int seed = 1)
    {
        var random = new Random(seed);
        var paths = new List<string>();
        for (int i = 0; i < count; i++)
        {
            string sub = Path.Combine(dir, $"album{i % 4}");
            Directory.CreateDirectory(sub);
            bool png = i % 3 == 2;
            string path = Path.Combine(sub, $"img{i:D4}.{(png ? "png" : "jpg")}");
            WriteOne(path, 64 + random.Next(200), 64 + random.Next(200), random, png);
            paths.Add(path);
        }
        return paths;
    }

    public static void WriteOne(string path, int width, int height, Random random, bool png = false)
    {
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        using (var canvas = new SKCanvas(bitmap))
        {
            canvas.Clear(new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256)));
            using var paint = new SKPaint();
            for (int k = 0; k < 6; k++)
            {
                paint.Color = new SKColor((byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(256));
                canvas.DrawRect(random.Next(width), random.Next(height), 10 + random.Next(width / 2), 10 + random.Next(height / 2), paint);
            }
        }
        using var data = bitmap.Encode(png ? SKEncodedImageFormat.Png : SKEncodedImageFormat.Jpeg, 90);
        using var file = File.Create(path);
        data.SaveTo(file);
    }
}
