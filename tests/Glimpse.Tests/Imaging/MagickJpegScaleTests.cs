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
