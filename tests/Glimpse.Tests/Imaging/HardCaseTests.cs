using Glimpse.Imaging;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Imaging;

// Issue 13, items 1 and 2: the cases decoders get wrong (palette + transparency, Adobe CMYK, LZW
// TIFF of the other byte order, predictors, tiles, 16 bits, multi-page; AVIF 12-bit, alpha, grid,
// irot/imir; HEIC 10-bit and alpha; JPEG XL orientation), each against the picture PIL or the
// format's reference decoder shows (Fixtures/hard-cases/make_fixtures.py), pixel by pixel.
public class HardCaseTests
{
    static string Fixtures => Path.Combine(SharedFiles.RepoRoot, "tests", "Glimpse.Tests", "Fixtures", "hard-cases");

    public static TheoryData<string> Cases() =>
        [.. Directory.EnumerateFiles(Fixtures).Select(f => Path.GetFileName(f)).Where(f => !f.EndsWith(".ref.png") && !f.EndsWith(".py")).Order()];

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decodes_to_the_picture_the_reference_shows(string file)
    {
        var full = DecodeOptions.Default with { ShrinkOnLoad = false };
        RgbImage actual = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Fixtures, file)), full, file);
        RgbImage expected = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(Fixtures, file + ".ref.png")), full);
        Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
        int n = expected.Width * expected.Height * 3;
        var (mean, p99) = Differences.Of(actual.Pixels, expected.Pixels, n);
        // Lossless formats must match to a grey level; the AV1/HEVC decoders of two builds may round
        // their YUV to RGB a level or two apart.
        bool lossy = file.EndsWith(".avif") || file.EndsWith(".heic") || file.EndsWith(".jxl") || file.EndsWith(".jpg");
        Assert.True(mean <= (lossy ? 1.0 : 0.01) && p99 <= (lossy ? 3 : 1), $"{file}: mean |diff| {mean:0.000} levels, p99 {p99}");
    }
}
