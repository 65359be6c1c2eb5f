using SkiaSharp;

namespace Glimpse.Bench;

/// <summary>Makes (once, into the cache) a folder of camera-sized JPEGs from the shared fixture photos.</summary>
internal static class BenchImages
{
    public static string Folder(string cache, string fixtures, int count, int width = 4000, int height = 3000)
    {
        // v2: every file distinct (v1's tints repeated after 256 files, and copies reuse a vector instead of running the model).
        string dir = Path.Combine(cache, $"jpeg-v2-{width}x{height}-{count}");
        if (Directory.Exists(dir) && Directory.GetFiles(dir).Length == count)
            return dir;
        Directory.CreateDirectory(dir);
        string[] sources = ["00.jpg", "01.jpg", "09.png", "04.jpg"];
        for (int i = 0; i < count; i++)
        {
            using var source = SKBitmap.Decode(Path.Combine(fixtures, sources[i % sources.Length]));
            using var scaled = source.Resize(new SKImageInfo(width, height), new SKSamplingOptions(SKFilterMode.Linear));
            // Shift the hue a little per copy so no two files are identical.
            using var canvas = new SKCanvas(scaled);
            using var paint = new SKPaint { Color = new SKColor((byte)(i * 37 % 256), (byte)(i * 91 % 256), (byte)(i * 13 % 256), 24) };
            canvas.DrawRect(0, 0, width, height, paint);
            // And a mark of its own, so no two files are identical whatever the count.
            using var mark = new SKPaint { Color = new SKColor((byte)(i % 251), (byte)(i / 251 % 251), 200) };
            canvas.DrawRect(i % 400 * 10, i / 400 % 300 * 10, 10, 10, mark);
            using var data = scaled.Encode(SKEncodedImageFormat.Jpeg, 90);
            using var file = File.Create(Path.Combine(dir, $"photo{i:D4}.jpg"));
            data.SaveTo(file);
        }
        return dir;
    }
}
