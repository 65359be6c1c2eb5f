using Glimpse.Imaging;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Imaging;

// Issue 3, item 3: preprocessing parity with PIL + torchvision (the reference CLIP preprocessing).
public class ClipPreprocessorTests
{
    public static TheoryData<string> Images() => new(SharedFiles.PreprocessImages().Select(Path.GetFileName)!);

    [Theory]
    [MemberData(nameof(Images))]
    public void Tensor_matches_the_PIL_reference_within_tolerance(string image)
    {
        var pre = new ClipPreprocessor(PreprocessConfig.OpenAiClip());
        var tensor = new float[pre.TensorLength];
        pre.Preprocess(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, image)), tensor);

        var (reference, shape) = NpyFile.Read(Path.Combine(SharedFiles.PreprocessFixtures, Path.GetFileNameWithoutExtension(image) + ".tensor.npy"));
        Assert.Equal([3L, 224, 224], shape);
        var (mean, p99) = Differences.Of(tensor, reference);
        Assert.True(mean <= 0.02, $"{image}: mean |diff| {mean:0.0000} > 0.02");
        Assert.True(p99 <= 0.10, $"{image}: p99 |diff| {p99:0.0000} > 0.10");
    }

    [Fact]
    public void Shrink_on_load_decodes_a_large_jpeg_at_a_reduced_scale()
    {
        byte[] photo = File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "00.jpg")); // 5120x2880
        RgbImage shrunk = ImageDecoder.Decode(photo, DecodeOptions.Default);
        RgbImage full = ImageDecoder.Decode(photo, DecodeOptions.Default with { ShrinkOnLoad = false });

        Assert.Equal((5120, 2880), (full.Width, full.Height));
        Assert.True(shrunk.Height >= 448 && shrunk.Height < 2880, $"shrunk to {shrunk.Width}x{shrunk.Height}");
        Assert.Equal((5120, 2880), (shrunk.SourceWidth, shrunk.SourceHeight));
    }

    [Fact]
    public void Exif_rotated_jpeg_comes_out_upright()
    {
        // 02.jpg is stored 70x50 with orientation 8: upright it is 50 wide, 70 high.
        RgbImage image = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "02.jpg")), DecodeOptions.Default);
        Assert.Equal((50, 70), (image.Width, image.Height));
    }

    [Fact]
    public void A_header_over_the_pixel_limit_is_refused_before_decoding()
    {
        byte[] photo = File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "01.jpg")); // 1600x1200 = 1.9 MP
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(photo, DecodeOptions.Default with { MaxMegapixels = 1 }));
        Assert.Contains("1600x1200", e.Message);
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Squash_mode_keeps_the_whole_picture()
    {
        var config = PreprocessConfig.OpenAiClip() with { ResizeMode = ResizeMode.Squash };
        var pre = new ClipPreprocessor(config);
        // 15.png is a 93x14 strip: centre-crop would keep its middle 14 px columns only.
        RgbImage square = pre.Prepare(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "15.png")));
        RgbImage cropped = new ClipPreprocessor(PreprocessConfig.OpenAiClip()).Prepare(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "15.png")));
        Assert.Equal((224, 224), (square.Width, square.Height));
        Assert.NotEqual(square.Pixels, cropped.Pixels);
    }
}
