using Glimpse.Imaging;

namespace Glimpse.Bench;

/// <summary>
/// Issue 15 item 5: the JPEG decode paths at hand, each decoding a 12 MP camera JPEG at a reduced
/// DCT scale (libjpeg-turbo underneath all three: Skia's own copy, ImageMagick's, libvips'), then
/// the same PIL-exact resample and crop to the model's input. CPU-ms per image on one thread, and
/// each tensor's difference from the full-resolution decode's (the reference the tolerance is about).
/// </summary>
internal static class DecodeBench
{
    public static void Run(string imagesDir, int count, int repeats)
    {
        byte[][] files = Directory.GetFiles(imagesDir).Order().Take(count).Select(File.ReadAllBytes).ToArray();
        var pre = new ClipPreprocessor(PreprocessConfig.OpenAiClip(224));
        var full = new ClipPreprocessor(pre.Config, DecodeOptions.Default with { ShrinkOnLoad = false });

        var reference = files.Select(f => { var t = new float[pre.TensorLength]; full.Preprocess(f, t); return t; }).ToArray();
        var paths = new (string Name, Func<byte[], RgbImage> Decode)[]
        {
            ("Skia, DCT-scaled (Glimpse's path before)", f => SkiaImageDecoder.Decode(f, pre.Decode)),
            ("Magick.NET, jpeg:size hint, DCT-scaled", f => MagickImageDecoder.Decode(f, pre.Decode, ImageFormat.Jpeg)),
            ("NetVips, jpegload shrink, DCT-scaled (Glimpse's path now)", f => ImageDecoder.Decode(f, pre.Decode)),
            ("Skia, full decode", f => SkiaImageDecoder.Decode(f, full.Decode)),
        };
        Console.WriteLine($"## JPEG decode + preprocess to 224, {files.Length} camera JPEGs of {imagesDir}, one thread, {repeats} rounds");
        Console.WriteLine("| path | CPU-ms per image | wall ms per image | mean abs diff from the full decode's tensor | p99 | max |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var (name, decode) in paths)
        {
            var tensor = new float[pre.TensorLength];
            double mean = 0, max = 0;
            var all = new List<float>();
            for (int i = 0; i < files.Length; i++)
            {
                pre.Normalize(pre.ResizeAndCrop(decode(files[i])), tensor);
                var diff = tensor.Zip(reference[i], (a, b) => Math.Abs(a - b)).ToArray();
                mean += diff.Average() / files.Length;
                max = Math.Max(max, diff.Max());
                all.AddRange(diff);
            }
            all.Sort();
            double p99 = all[(int)(all.Count * 0.99)];
            int rounds = name.Contains("full") ? 1 : repeats;
            var m = Measure.Of(() =>
            {
                for (int r = 0; r < rounds; r++)
                    foreach (byte[] f in files)
                        pre.Normalize(pre.ResizeAndCrop(decode(f)), tensor);
            });
            var sample = decode(files[0]);
            Console.WriteLine($"| {name} ({sample.Width}x{sample.Height}) | {m.CpuSeconds * 1000 / (rounds * files.Length):0.0} | {m.WallSeconds * 1000 / (rounds * files.Length):0.0} | {mean:0.0000} | {p99:0.000} | {max:0.000} |");
        }
    }
}
