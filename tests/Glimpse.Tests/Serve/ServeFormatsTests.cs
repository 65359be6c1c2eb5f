using System.Text.Json;
using Glimpse.Tests.Imaging;
using Glimpse.Tests.Support;
using SkiaSharp;

namespace Glimpse.Tests.Serve;

// Issue 13: the page shows what phones and cameras write. Browsers cannot show HEIC, JPEG XL,
// TIFF or RAW, so `glimpse serve` sends those as JPEG (full view and thumbnail), upright.
public sealed class ServeFormatsTests
{
    [Fact]
    public async Task Heic_jxl_tiff_and_raw_are_served_as_upright_jpegs()
    {
        using var dir = new TempDir();
        string root = dir.Sub("lib");
        var files = new Dictionary<string, (int W, int H)>
        {
            ["00-heic.heic"] = (1600, 1200),
            ["00-jxl.jxl"] = (1600, 1200),
            ["photoprism_canon_eos_6d.dng"] = (1024, 683),
            ["jxl-orientation-6.jxl"] = (240, 320),
            ["lzw-big-endian.tif"] = (320, 240),
        };
        foreach (string file in files.Keys)
        {
            string from = new[] { FormatFixtureTests.Formats, FormatFixtureTests.RealFormats, Path.Combine(SharedFiles.RepoRoot, "tests", "Glimpse.Tests", "Fixtures", "hard-cases") }
                .Select(d => Path.Combine(d, file)).First(File.Exists);
            File.Copy(from, Path.Combine(root, file));
        }
        var (code, _, stderr) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich]);
        Assert.True(code == 0, stderr);

        using var server = await ServeProcess.StartAsync(root);
        var hits = JsonDocument.Parse(await server.Client.GetStringAsync("/api/search?q=x&limit=10")).RootElement.GetProperty("results");
        Assert.Equal(files.Count, hits.GetArrayLength());
        foreach (JsonElement hit in hits.EnumerateArray())
        {
            string path = hit.GetProperty("path").GetString()!;
            long id = hit.GetProperty("id").GetInt64();
            var full = await server.Client.GetAsync($"/api/image/{id}");
            Assert.Equal("image/jpeg", full.Content.Headers.ContentType!.MediaType);
            using (var bitmap = SKBitmap.Decode(await full.Content.ReadAsByteArrayAsync()))
            {
                // Upright, whole, and at least as large as the picture (a RAW may be developed larger than its preview).
                var (w, h) = files[path];
                Assert.True(Math.Abs((double)bitmap.Width / bitmap.Height - (double)w / h) < 0.01, $"{path}: {bitmap.Width}x{bitmap.Height}, expected {w}x{h}");
                Assert.True(bitmap.Width >= w, $"{path}: {bitmap.Width}x{bitmap.Height}, expected {w}x{h}");
            }
            var thumb = await server.Client.GetAsync($"/api/thumb/{id}");
            Assert.Equal("image/jpeg", thumb.Content.Headers.ContentType!.MediaType);
            using (var bitmap = SKBitmap.Decode(await thumb.Content.ReadAsByteArrayAsync()))
                Assert.Equal(files[path].W > files[path].H, bitmap.Width > bitmap.Height);
        }
    }
}
