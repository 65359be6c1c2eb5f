using Glimpse.Imaging;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Imaging;

// Issue 13, items 3 and 5: damaged files in the new formats fail with a one-line reason (no
// crash, no hang), and the pixel limit holds in every decoder, checked from the header before
// the pixels are allocated.
public class BadNewFormatTests
{
    static string Formats => FormatFixtureTests.Formats;
    static string RealFormats => FormatFixtureTests.RealFormats;
    static string HardCases => Path.Combine(SharedFiles.RepoRoot, "tests", "Glimpse.Tests", "Fixtures", "hard-cases");

    static byte[] Cut(string path, double fraction)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return bytes[..(int)(bytes.Length * fraction)];
    }

    static byte[] Scrambled(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        var random = new Random(7);
        for (int i = bytes.Length / 4; i < bytes.Length; i += 13)
            bytes[i] = (byte)random.Next(256);
        return bytes;
    }

    /// <summary>name -> bytes of a damaged file in each new format.</summary>
    public static Dictionary<string, byte[]> Damaged() => new()
    {
        ["truncated.heic"] = Cut(Path.Combine(Formats, "00-heic.heic"), 0.5),
        ["header-only.heic"] = Cut(Path.Combine(Formats, "00-heic.heic"), 0.02),
        ["zero-bytes.heic"] = [],
        ["corrupt.avif"] = Scrambled(Path.Combine(Formats, "00-avif.avif")),
        ["truncated.avif"] = Cut(Path.Combine(Formats, "00-avif10.avif"), 0.5),
        ["truncated.jxl"] = Cut(Path.Combine(Formats, "00-jxl.jxl"), 0.4),
        ["corrupt.tif"] = Scrambled(Path.Combine(HardCases, "lzw-big-endian.tif")),
        ["no-preview-no-data.dng"] = Cut(Path.Combine(RealFormats, "photoprism_canon_eos_6d.dng"), 0.05),
        ["no-preview-no-data.cr3"] = Cut(Path.Combine(RealFormats, "nom-exif_canon-r6.cr3"), 0.02),
        ["zero-bytes.raf"] = [],
    };

    public static TheoryData<string> DamagedNames() => [.. Damaged().Keys];

    [Theory]
    [MemberData(nameof(DamagedNames))]
    public void A_damaged_file_fails_with_one_line_and_nothing_worse(string name)
    {
        byte[] bytes = Damaged()[name];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, DecodeOptions.Default, name));
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("/tmp/", e.Message); // no decoder temp-file names
        Assert.True(e.Message.Length is > 5 and < 300, e.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"{name} took {clock.Elapsed}");
    }

    [Theory]
    [InlineData("formats", "00-heic.heic")]
    [InlineData("formats", "00-avif.avif")]
    [InlineData("formats", "00-jxl.jxl")]
    [InlineData("real-formats", "av1avif_Microsoft_Summer_in_Tomsk_720p_5x4_grid.avif")]
    [InlineData("real-formats", "photoprism_canon_eos_6d.dng")]
    [InlineData("real-formats", "nom-exif_canon-r6.cr3")]
    [InlineData("hard-cases", "tiled.tif")]
    [InlineData("hard-cases", "palette-transparent.gif")]
    [InlineData("hard-cases", "cmyk-adobe.jpg")]
    public void The_pixel_limit_holds_in_every_decoder(string folder, string file)
    {
        string path = folder == "hard-cases" ? Path.Combine(HardCases, file) : Path.Combine(SharedFiles.Root, "fixtures", folder, file);
        byte[] bytes = File.ReadAllBytes(path);
        Assert.NotNull(ImageDecoder.Decode(bytes, DecodeOptions.Default, file)); // decodes within the default limit
        // Below the smallest picture in the file (a RAW falls back to a smaller preview within the limit).
        var tight = DecodeOptions.Default with { MaxMegapixels = 0.01 };
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, tight, file));
        Assert.Contains("over the 0.01 MP limit", e.Message);
    }

    [Fact]
    public void An_index_run_records_each_damaged_file_and_embeds_every_good_one()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        foreach (var (name, bytes) in Damaged())
            File.WriteAllBytes(Path.Combine(photos, name), bytes);
        File.Copy(Path.Combine(Formats, "01-heic.heic"), Path.Combine(photos, "good.heic"));
        File.Copy(Path.Combine(RealFormats, "photoprism_canon_eos_6d.dng"), Path.Combine(photos, "good.dng"));

        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich, "--offline"], TimeSpan.FromMinutes(3));
        Assert.True(code == 3, $"exit {code}\n{stdout}\n{stderr}"); // finished, some failed
        var rows = CatalogReader.ReadAll(Path.Combine(photos, ".glimpse", "catalog.db"));
        Assert.Equal(2, rows["good.heic"].Status);
        Assert.Equal(2, rows["good.dng"].Status);
        foreach (string name in Damaged().Keys)
        {
            Assert.Equal(3, rows[name].Status);
            Assert.False(string.IsNullOrWhiteSpace(rows[name].FailReason), name);
        }
    }
}
