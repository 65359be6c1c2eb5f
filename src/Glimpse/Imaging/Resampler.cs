namespace Glimpse.Imaging;

/// <summary>
/// PIL's 8-bit resampling (<c>Image.resize</c> with BICUBIC or BILINEAR), reproduced so tensors
/// match the reference CLIP preprocessing: separable, horizontal pass first, the kernel widened
/// by the reduction factor (antialiasing), 22-bit fixed-point weights, and the intermediate image
/// rounded to 8 bits, as PIL's <c>libImaging/Resample.c</c> does.
/// </summary>
/// <remarks>
/// Only the output window [x0, x0+w) x [y0, y0+h) is computed, so resize-then-centre-crop costs
/// the crop, not the whole resized image (a 10000x1 strip resized to 2240000x224 stays cheap).
/// </remarks>
internal static class Resampler
{
    const int PrecisionBits = 32 - 8 - 2;

    /// <summary>
    /// Resizes <paramref name="src"/> to a virtual <paramref name="outWidth"/> x <paramref name="outHeight"/>
    /// image and returns its window at (<paramref name="x0"/>, <paramref name="y0"/>) of size <paramref name="w"/> x <paramref name="h"/>.
    /// </summary>
    public static RgbImage ResizeWindow(RgbImage src, int outWidth, int outHeight, int x0, int y0, int w, int h, ResampleFilter filter)
    {
        Coefficients horizontal = Coefficients.Compute(src.Width, outWidth, x0, w, filter);
        Coefficients vertical = Coefficients.Compute(src.Height, outHeight, y0, h, filter);

        // Rows of the source that the vertical pass reads: the horizontal pass skips the rest.
        int rowFirst = vertical.Start[0];
        int rowLast = vertical.Start[h - 1] + vertical.Count[h - 1];
        int rows = rowLast - rowFirst;

        byte[] temp = new byte[w * rows * 3];
        HorizontalPass(src, rowFirst, rows, horizontal, temp, w);

        byte[] dst = new byte[w * h * 3];
        VerticalPass(temp, w, rowFirst, vertical, dst, h);
        return new RgbImage(w, h, dst);
    }

    static void HorizontalPass(RgbImage src, int rowFirst, int rows, Coefficients k, byte[] dst, int w)
    {
        byte[] s = src.Pixels;
        int stride = src.Width * 3;
        for (int y = 0; y < rows; y++)
        {
            int srcRow = (y + rowFirst) * stride;
            int dstRow = y * w * 3;
            for (int x = 0; x < w; x++)
            {
                int start = k.Start[x], count = k.Count[x], kOffset = x * k.Size;
                int r = 1 << (PrecisionBits - 1), g = r, b = r;
                int p = srcRow + start * 3;
                for (int i = 0; i < count; i++, p += 3)
                {
                    int weight = k.Weights[kOffset + i];
                    r += s[p] * weight;
                    g += s[p + 1] * weight;
                    b += s[p + 2] * weight;
                }
                int o = dstRow + x * 3;
                dst[o] = Clip8(r);
                dst[o + 1] = Clip8(g);
                dst[o + 2] = Clip8(b);
            }
        }
    }

    static void VerticalPass(byte[] src, int w, int rowFirst, Coefficients k, byte[] dst, int h)
    {
        int stride = w * 3;
        for (int y = 0; y < h; y++)
        {
            int start = k.Start[y] - rowFirst, count = k.Count[y], kOffset = y * k.Size;
            int dstRow = y * stride;
            for (int x = 0; x < stride; x++)
            {
                int acc = 1 << (PrecisionBits - 1);
                int p = start * stride + x;
                for (int i = 0; i < count; i++, p += stride)
                    acc += src[p] * k.Weights[kOffset + i];
                dst[dstRow + x] = Clip8(acc);
            }
        }
    }

    static byte Clip8(int value)
    {
        int v = value >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }

    /// <summary>Per output pixel: first input pixel, how many it reads, and fixed-point weights.</summary>
    sealed class Coefficients
    {
        public required int[] Start { get; init; }
        public required int[] Count { get; init; }
        public required int[] Weights { get; init; }
        public required int Size { get; init; }

        public static Coefficients Compute(int inSize, int outSize, int outStart, int outCount, ResampleFilter filter)
        {
            double support0 = filter == ResampleFilter.Bicubic ? 2.0 : 1.0;
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = support0 * filterScale;
            int size = (int)Math.Ceiling(support) * 2 + 1;

            var start = new int[outCount];
            var count = new int[outCount];
            var weights = new int[outCount * size];
            var k = new double[size];
            for (int i = 0; i < outCount; i++)
            {
                int xx = outStart + i;
                double center = (xx + 0.5) * scale;
                double ss = 1.0 / filterScale;
                int xmin = Math.Max((int)(center - support + 0.5), 0);
                int xmax = Math.Min((int)(center + support + 0.5), inSize) - xmin;
                double total = 0;
                for (int x = 0; x < xmax; x++)
                {
                    double weight = Kernel(filter, (x + xmin - center + 0.5) * ss);
                    k[x] = weight;
                    total += weight;
                }
                for (int x = 0; x < xmax; x++)
                {
                    double normalised = total != 0 ? k[x] / total : k[x];
                    weights[i * size + x] = normalised < 0
                        ? (int)(-0.5 + normalised * (1 << PrecisionBits))
                        : (int)(0.5 + normalised * (1 << PrecisionBits));
                }
                start[i] = xmin;
                count[i] = xmax;
            }
            return new Coefficients { Start = start, Count = count, Weights = weights, Size = size };
        }

        static double Kernel(ResampleFilter filter, double x)
        {
            x = Math.Abs(x);
            if (filter == ResampleFilter.Bilinear)
                return x < 1.0 ? 1.0 - x : 0.0;
            const double a = -0.5;
            if (x < 1.0)
                return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
            if (x < 2.0)
                return (((x - 5) * x + 8) * x - 4) * a;
            return 0.0;
        }
    }
}
