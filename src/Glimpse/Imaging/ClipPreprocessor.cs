namespace Glimpse.Imaging;

/// <summary>
/// Reproduces open_clip / Immich image preprocessing: decode, EXIF transpose, convert to RGB,
/// torchvision <c>Resize(S, BICUBIC)</c> on the shortest side (PIL's resampler), <c>CenterCrop(S)</c>,
/// <c>ToTensor</c>, <c>Normalize(mean, std)</c>, written as CHW float32.
/// Thread-safe: it holds only the configuration and lookup tables.
/// </summary>
public sealed class ClipPreprocessor
{
    readonly float[][] _lut;

    public ClipPreprocessor(PreprocessConfig config, DecodeOptions? decode = null)
    {
        Config = config;
        // The decoder shrinks relative to this model's input size, whatever the caller asked.
        Decode = (decode ?? DecodeOptions.Default) with { TargetShortSide = config.Size };

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
    public int TensorLength => 3 * Config.Size * Config.Size;

    /// <summary>Decodes and preprocesses one encoded image into <paramref name="destination"/> (CHW).</summary>
    /// <exception cref="ImageDecodeException">The bytes are not a decodable image within the limits.</exception>
    public void Preprocess(byte[] encoded, Span<float> destination) =>
        Normalize(Prepare(encoded), destination);

    /// <summary>The S x S 8-bit RGB picture the model sees, before normalisation.</summary>
    internal RgbImage Prepare(byte[] encoded) => ResizeAndCrop(ImageDecoder.Decode(encoded, Decode));

    internal RgbImage ResizeAndCrop(RgbImage image)
    {
        int s = Config.Size;
        if (Config.ResizeMode == ResizeMode.Squash)
            return Resampler.ResizeWindow(image, s, s, 0, 0, s, s, Config.Filter);

        // torchvision Resize(int): the short side becomes S, the long one int(S * long / short).
        int w = image.SourceWidth, h = image.SourceHeight;
        int outW, outH;
        if (w <= h)
        {
            outW = s;
            outH = (int)((double)s * h / w);
        }
        else
        {
            outH = s;
            outW = (int)((double)s * w / h);
        }

        // torchvision CenterCrop rounds the offsets half to even, as Python's round() does.
        int left = (int)Math.Round((outW - s) / 2.0, MidpointRounding.ToEven);
        int top = (int)Math.Round((outH - s) / 2.0, MidpointRounding.ToEven);
        return Resampler.ResizeWindow(image, outW, outH, left, top, s, s, Config.Filter);
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
