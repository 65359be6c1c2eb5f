namespace Glimpse.Imaging;

/// <summary>
/// Applies an EXIF orientation (1..8) to an RGB image, as PIL's <c>ImageOps.exif_transpose</c>
/// does. Values outside 1..8 (seen in the wild: 0, 9, 65535) mean "as stored".
/// </summary>
internal static class ExifOrientation
{
    public static bool SwapsAxes(int orientation) => orientation is >= 5 and <= 8;

    public static RgbImage Apply(RgbImage src, int orientation)
    {
        if (orientation is < 2 or > 8)
            return src;

        int w = src.Width, h = src.Height;
        int ow = SwapsAxes(orientation) ? h : w;
        int oh = SwapsAxes(orientation) ? w : h;
        var dst = new byte[ow * oh * 3];
        byte[] s = src.Pixels;
        for (int y = 0; y < oh; y++)
        {
            int o = y * ow * 3;
            for (int x = 0; x < ow; x++, o += 3)
            {
                // (sx, sy): the stored pixel that lands at (x, y) once displayed upright.
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - x, y),          // mirror horizontal
                    3 => (w - 1 - x, h - 1 - y),  // rotate 180
                    4 => (x, h - 1 - y),          // mirror vertical
                    5 => (y, x),                  // transpose
                    6 => (y, h - 1 - x),          // rotate 90 clockwise
                    7 => (w - 1 - y, h - 1 - x),  // transverse
                    _ => (w - 1 - y, x),          // 8: rotate 90 counter-clockwise
                };
                int i = (sy * w + sx) * 3;
                dst[o] = s[i];
                dst[o + 1] = s[i + 1];
                dst[o + 2] = s[i + 2];
            }
        }
        return new RgbImage(ow, oh, dst);
    }
}
