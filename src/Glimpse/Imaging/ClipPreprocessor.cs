namespace Glimpse.Imaging;

/// <summary>
/// Reproduces open_clip / Immich image preprocessing: decode, EXIF transpose, convert to RGB,
/// resize with PIL's resampler as the folder's <c>resize_mode</c> says (shortest side + centre
/// crop, squash, or longest side + padding), <c>ToTensor</c>, <c>Normalize(mean, std)</c>, written
/// as CHW float32. Hugging Face folders follow transformers' image processors the same way.
/// Thread-safe: it holds only the configuration and lookup tables.
/// </summary>
public sealed class ClipPreprocessor
{
    readonly float[][] _lut;

    public ClipPreprocessor(PreprocessConfig config, DecodeOptions? decode = null)
    {
        Config = config;
        // The decoder shrinks relative to this model's input size, whatever the caller asked.
        Decode = (decode ?? DecodeOptions.Default) with { TargetShortSide = Math.Max(config.Size, config.ShortestEdge ?? 0) };

        // ToTensor + Normalize folded into one table per channel: 256 entries, no per-pixel division.
        _lut = new float[3][];
        for (int c = 0; c < 3; c++)
        {
            _lut[c] = new float[256];
            for (int v = 0; v < 256; v++)
                _lut[c][v] = (v / 255f - config.Mean[c]) / config.Std[c];
        }
    }

    public PreprocessConfig Config { get; }
    public DecodeOptions Decode { get; }

    /// <summary>Floats in one image's tensor: 3 x S x S.</summary>
    public int TensorLength => Config.TensorLength;

    /// <summary>Decodes and preprocesses one encoded image into <paramref name="destination"/> (CHW).</summary>
    /// <exception cref="ImageDecodeException">The bytes are not a decodable image within the limits.</exception>
    /// <param name="fileName">The file's name: only a TIFF-based camera RAW without a DNG tag (NEF, ARW, PEF) needs it to be told from a TIFF.</param>
    public void Preprocess(byte[] encoded, Span<float> destination, string? fileName = null) =>
        Normalize(Prepare(encoded, fileName), destination);

    /// <summary>The S x S 8-bit RGB picture the model sees, before normalisation.</summary>
    /// <summary>What the model sees, before normalisation, as a PNG (the resized and cropped image): for checking a preprocessing by eye.</summary>
    public byte[] PreparedPng(byte[] encoded, string? fileName = null) => ImageEncoder.Png(Prepare(encoded, fileName));

    internal RgbImage Prepare(byte[] encoded, string? fileName = null) => ResizeAndCrop(ImageDecoder.Decode(encoded, Decode, fileName));

    internal RgbImage ResizeAndCrop(RgbImage image)
    {
        int h = Config.Height, w = Config.Width;
        int srcW = image.SourceWidth, srcH = image.SourceHeight;
        switch (Config.ResizeMode)
        {
            case ResizeMode.Squash:
                return Resampler.ResizeWindow(image, w, h, 0, 0, w, h, Config.Filter);

            case ResizeMode.Longest:
            {
                // open_clip: ResizeKeepRatio(longest=1), then CenterCropOrPad with fill_color.
                var (outH, outW) = KeepRatio(srcH, srcW, h, w, longest: true);
                RgbImage resized = Resampler.ResizeWindow(image, outW, outH, 0, 0, outW, outH, Config.Filter);
                return CropOrPad(resized, h, w);
            }

            default:
            {
                int outW, outH;
                if (h == w)
                {
                    // torchvision Resize(int) (and transformers' shortest_edge): the short side becomes
                    // E, the long one int(E * long / short); E is the input size unless the folder says.
                    int e = Config.ShortestEdge ?? w;
                    (outW, outH) = srcW <= srcH ? (e, (int)((double)e * srcH / srcW)) : ((int)((double)e * srcW / srcH), e);
                }
                else
                {
                    // open_clip for a non-square input: ResizeKeepRatio(longest=0), so both sides cover it.
                    (outH, outW) = KeepRatio(srcH, srcW, h, w, longest: false);
                }
                int left = CropOffset(outW - w), top = CropOffset(outH - h);
                return Resampler.ResizeWindow(image, outW, outH, left, top, w, h, Config.Filter);
            }
        }
    }

    /// <summary>open_clip's ResizeKeepRatio: both sides divided by the larger (or smaller) of the two ratios, rounded as Python's round().</summary>
    static (int Height, int Width) KeepRatio(int srcH, int srcW, int h, int w, bool longest)
    {
        double ratioH = (double)srcH / h, ratioW = (double)srcW / w;
        double ratio = longest ? Math.Max(ratioH, ratioW) : Math.Min(ratioH, ratioW);
        return (Math.Max(1, (int)Math.Round(srcH / ratio, MidpointRounding.ToEven)),
                Math.Max(1, (int)Math.Round(srcW / ratio, MidpointRounding.ToEven)));
    }

    /// <summary>Where a centre crop of an axis <paramref name="excess"/> pixels too long starts.</summary>
    int CropOffset(int excess) => Config.CropRounding == CropRounding.Floor
        ? excess >> 1
        : (int)Math.Round(excess / 2.0, MidpointRounding.ToEven);

    /// <summary>
    /// open_clip's center_crop_or_pad: an axis shorter than the input is padded with the fill
    /// colour, (d // 2) before and the rest after; a longer one is centre-cropped.
    /// </summary>
    RgbImage CropOrPad(RgbImage image, int h, int w)
    {
        var pixels = new byte[w * h * 3];
        if (Config.FillColor != 0)
            pixels.AsSpan().Fill(Config.FillColor);
        var (dstX, srcX, cols) = image.Width <= w ? ((w - image.Width) / 2, 0, image.Width) : (0, CropOffset(image.Width - w), w);
        var (dstY, srcY, rows) = image.Height <= h ? ((h - image.Height) / 2, 0, image.Height) : (0, CropOffset(image.Height - h), h);
        for (int y = 0; y < rows; y++)
            image.Pixels.AsSpan(((srcY + y) * image.Width + srcX) * 3, cols * 3)
                .CopyTo(pixels.AsSpan(((dstY + y) * w + dstX) * 3));
        return new RgbImage(w, h, pixels);
    }

    internal void Normalize(RgbImage square, Span<float> destination)
    {
        int plane = square.Width * square.Height;
        if (destination.Length < plane * 3)
            throw new ArgumentException($"The destination holds {destination.Length} floats; {plane * 3} are needed.", nameof(destination));

        byte[] px = square.Pixels;
        float[] r = _lut[0], g = _lut[1], b = _lut[2];
        Span<float> rp = destination[..plane], gp = destination.Slice(plane, plane), bp = destination.Slice(2 * plane, plane);
        for (int i = 0, p = 0; i < plane; i++, p += 3)
        {
            rp[i] = r[px[p]];
            gp[i] = g[px[p + 1]];
            bp[i] = b[px[p + 2]];
        }
    }
}
