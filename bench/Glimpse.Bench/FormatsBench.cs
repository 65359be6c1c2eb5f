using ImageMagick;
using Glimpse.Imaging;

namespace Glimpse.Bench;

/// <summary>
/// Issue 13 item 6, in one run: CPU-ms per camera-sized image (decode + CLIP preprocessing to 224,
/// one thread) by format. The 12 MP photo is encoded once into each format with the libraries
/// Glimpse decodes with (into the cache); the RAW case is a DNG-named TIFF container holding 20 MB
/// of sensor-like bytes and the photo as its embedded preview, which is the path a real RAW takes.
/// </summary>
internal static class FormatsBench
{
    public static void Run(string cache, string jpegFolder, int repeats)
    {
        string source = Directory.GetFiles(jpegFolder).Order().First();
        string dir = Path.Combine(cache, "formats-4000x3000");
        Directory.CreateDirectory(dir);
        var files = new List<(string Name, string Path)> { ("JPEG (Skia, DCT 1/4)", source) };
        // Encoded by the formats' reference encoders (Debian: libheif-examples, libavif-bin, libjxl-tools);
        // TIFF by ImageMagick (Magick.NET has no HEVC or AV1 encoder).
        var encoders = new (string Name, string Ext, string Tool, string Args)[]
        {
            ("HEIC", "heic", "heif-enc", "-q 85 -o {out} {in}"),
            ("AVIF", "avif", "avifenc", "-s 8 --min 20 --max 30 {in} {out}"),
            ("JPEG XL", "jxl", "cjxl", "--lossless_jpeg=0 -q 85 {in} {out}"),
        };
        foreach (var (name, ext, tool, args) in encoders)
        {
            string path = Path.Combine(dir, "photo." + ext);
            if (!File.Exists(path))
            {
                var psi = new System.Diagnostics.ProcessStartInfo(tool, args.Replace("{in}", source).Replace("{out}", path)) { RedirectStandardOutput = true, RedirectStandardError = true };
                try
                {
                    using var p = System.Diagnostics.Process.Start(psi)!;
                    p.WaitForExit();
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    Console.Error.WriteLine($"{tool} is missing: apt-get install -y libheif-examples libavif-bin libjxl-tools");
                    continue;
                }
            }
            files.Add((name, path));
        }
        string tiff = Path.Combine(dir, "photo.tif");
        if (!File.Exists(tiff))
        {
            using var image = new MagickImage(source);
            image.Settings.Compression = CompressionMethod.LZW;
            image.Write(tiff, MagickFormat.Tiff);
        }
        files.Add(("TIFF (LZW)", tiff));
        string raw = Path.Combine(dir, "photo.dng");
        if (!File.Exists(raw))
        {
            // A little-endian TIFF header with an empty IFD0, noise for the sensor data, then the preview.
            var noise = new byte[20 << 20];
            new Random(1).NextBytes(noise);
            byte[] header = [(byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0];
            File.WriteAllBytes(raw, [.. header, .. noise, .. File.ReadAllBytes(source)]);
        }
        files.Add(("RAW preview (DNG, 20 MB)", raw));

        var pre = new ClipPreprocessor(PreprocessConfig.OpenAiClip());
        var tensor = new float[pre.TensorLength];
        Console.WriteLine($"## formats: one {Path.GetFileName(source)} (4000x3000) in each format, decode + preprocess to 224, one thread, {repeats} runs each");
        Console.WriteLine("| format | file size | CPU-ms per image | × JPEG |");
        Console.WriteLine("|---|---|---|---|");
        double? jpeg = null;
        foreach (var (name, path) in files)
        {
            byte[] bytes = File.ReadAllBytes(path);
            pre.Preprocess(bytes, tensor, path); // warm-up (and the native libraries' first use)
            var m = Measure.Of(() => { for (int i = 0; i < repeats; i++) pre.Preprocess(bytes, tensor, path); });
            double ms = m.CpuSeconds / repeats * 1000;
            jpeg ??= ms;
            Console.WriteLine($"| {name} | {bytes.Length / 1e6:0.0} MB | {ms:0.0} | {ms / jpeg:0.0} |");
        }
    }
}
