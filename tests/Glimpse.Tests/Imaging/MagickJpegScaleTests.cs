using Glimpse.Imaging;
using ImageMagick;

namespace Glimpse.Tests.Imaging;

// The JPEGs ImageMagick decodes (CMYK) shrink on load as Skia's do: to the smallest DCT scale that
// keeps twice the model's size on the short side. A square size hint let ImageMagick round to 1/8
// (a 4000x3000 photo came out 500x375, short of 448) and cost accuracy the decode bench showed.
public class MagickJpegScaleTests
{
    [Theory]
    [InlineData(4000u, 3000u, 448, "1000x750")]
    [InlineData(3000u, 4000u, 448, "750x1000")]
    [InlineData(6000u, 4000u, 448, "750x500")]
    [InlineData(1000u, 900u, 448, "500x450")]
    [InlineData(1200u, 1000u, 448, "600x500")]
    [InlineData(1600u, 1500u, 448, "800x750")]
    public void The_size_hint_asks_for_the_smallest_eighth_that_keeps_the_short_side(uint w, uint h, int side, string hint)
    {
        Assert.Equal(hint, MagickImageDecoder.JpegSizeHint(w, h, side));
    }

    [Fact]
    public void A_large_cmyk_jpeg_is_decoded_at_a_reduced_scale_that_keeps_twice_the_model_size()
    {
        using var picture = new MagickImage(MagickColors.SteelBlue, 3200, 2400);
        picture.ColorSpace = ColorSpace.CMYK;
        picture.Format = MagickFormat.Jpeg;
        byte[] jpeg = picture.ToByteArray();

        RgbImage decoded = ImageDecoder.Decode(jpeg, DecodeOptions.Default);
        Assert.Equal((3200, 2400), (decoded.SourceWidth, decoded.SourceHeight));
        Assert.InRange(Math.Min(decoded.Width, decoded.Height), 2 * DecodeOptions.Default.TargetShortSide, 2400 / 2);
    }
}

// A camera-sized JPEG now decodes through ImageMagick (the faster libjpeg-turbo build): the pixels
// must be Skia's, turned the same way, and a cut-off one must fail as it did.
public class LargeJpegDecodeTests
{
    static byte[] CameraJpeg(Orientation orientation = Orientation.TopLeft)
    {
        using var photo = new MagickImage(Path.Combine(Support.SharedFiles.PreprocessFixtures, "00.jpg"));
        photo.Resize(new MagickGeometry(3200, 2400) { IgnoreAspectRatio = true });
        photo.Quality = 90;
        var exif = new ExifProfile();
        exif.SetValue(ExifTag.Orientation, (ushort)orientation); // what a phone held upright writes
        photo.SetProfile(exif);
        photo.Orientation = orientation; // ImageMagick writes its own orientation into the EXIF it saves
        return photo.ToByteArray(MagickFormat.Jpeg);
    }

    [Theory]
    [InlineData(Orientation.TopLeft)]
    [InlineData(Orientation.RightTop)]
    public void A_camera_sized_jpeg_decodes_to_the_pixels_skia_gives_turned_the_same_way(Orientation orientation)
    {
        byte[] jpeg = CameraJpeg(orientation);
        RgbImage routed = ImageDecoder.Decode(jpeg, DecodeOptions.Default);
        RgbImage skia = SkiaImageDecoder.Decode(jpeg, DecodeOptions.Default);
        Assert.Equal((skia.Width, skia.Height, skia.SourceWidth, skia.SourceHeight), (routed.Width, routed.Height, routed.SourceWidth, routed.SourceHeight));
        Assert.True(routed.Width < 3200 / 2, "shrunk on load");
        if (orientation == Orientation.RightTop)
            Assert.True(routed.Height > routed.Width, "turned upright");
        var (mean, p99) = Support.Differences.Of(routed.Pixels, skia.Pixels, skia.Width * skia.Height * 3);
        Assert.True(mean <= 0.5 && p99 <= 2, $"mean |diff| {mean:0.000} levels, p99 {p99}");
    }

    [Fact]
    public void A_cut_off_camera_sized_jpeg_is_refused_as_truncated()
    {
        byte[] jpeg = CameraJpeg();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(jpeg[..(jpeg.Length * 2 / 3)], DecodeOptions.Default));
        Assert.Contains("truncated JPEG", e.Message);
    }
}

public class SkiaRgbaToRgbTests
{
    [Fact]
    public void Dropping_alpha_keeps_every_pixels_rgb_for_every_count_around_the_vector_width()
    {
        var random = new Random(3);
        for (int pixels = 0; pixels <= 41; pixels++)
        {
            var rgba = new byte[pixels * 4];
            random.NextBytes(rgba);
            byte[] rgb = SkiaImageDecoder.DropAlpha(rgba, pixels);
            Assert.Equal(pixels * 3, rgb.Length);
            for (int p = 0; p < pixels; p++)
                Assert.True(rgb[p * 3] == rgba[p * 4] && rgb[p * 3 + 1] == rgba[p * 4 + 1] && rgb[p * 3 + 2] == rgba[p * 4 + 2], $"{pixels} pixels: pixel {p}");
        }
    }
}
