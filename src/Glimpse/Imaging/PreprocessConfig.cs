namespace Glimpse.Imaging;

/// <summary>How an image becomes the model's input tensor, as read from the model folder.</summary>
public sealed record PreprocessConfig
{
    /// <summary>Rows of the input tensor. CLIP ViT-B/32 uses 224.</summary>
    public required int Height { get; init; }

    /// <summary>Columns of the input tensor; equal to <see cref="Height"/> for nearly every model.</summary>
    public required int Width { get; init; }

    /// <summary>A square input's side; for a non-square one, its longer side.</summary>
    public int Size => Math.Max(Height, Width);

    /// <summary>
    /// The short side's length before the centre crop, when it is not the input size: transformers'
    /// CLIP processors resize the shortest edge to <c>size.shortest_edge</c>, then crop
    /// <c>crop_size</c>. Null: the input size (open_clip).
    /// </summary>
    public int? ShortestEdge { get; init; }

    /// <summary>Per-channel (R, G, B) mean subtracted after scaling to [0, 1].</summary>
    public required float[] Mean { get; init; }

    /// <summary>Per-channel (R, G, B) standard deviation divided by after the mean.</summary>
    public required float[] Std { get; init; }

    /// <summary>How the picture is fitted to the input (open_clip's <c>resize_mode</c>).</summary>
    public ResizeMode ResizeMode { get; init; } = ResizeMode.Shortest;

    /// <summary>The resampling filter, PIL's antialiased bicubic unless the folder says bilinear.</summary>
    public ResampleFilter Filter { get; init; } = ResampleFilter.Bicubic;

    /// <summary>The 8-bit value of the bars <see cref="ResizeMode.Longest"/> pads with (open_clip's <c>fill_color</c>).</summary>
    public byte FillColor { get; init; }

    /// <summary>
    /// How a centre crop's offset is rounded: torchvision's <c>round((h - S) / 2)</c> (open_clip,
    /// Immich) or transformers' <c>(h - S) // 2</c> (Hugging Face image processors). It moves the
    /// crop by at most one pixel, so it is not part of <see cref="Describe"/> (the model identity).
    /// </summary>
    public CropRounding CropRounding { get; init; } = CropRounding.HalfToEven;

    /// <summary>Floats in one image's tensor: 3 x H x W.</summary>
    public int TensorLength => 3 * Height * Width;

    /// <summary>OpenAI CLIP's normalisation at 224 px.</summary>
    public static PreprocessConfig OpenAiClip(int size = 224) => new()
    {
        Height = size,
        Width = size,
        Mean = [0.48145466f, 0.4578275f, 0.40821073f],
        Std = [0.26862954f, 0.26130258f, 0.27577711f],
    };

    /// <summary>A stable text form, stored in the catalog to tell models apart (unchanged for the configs catalogs already hold).</summary>
    public string Describe()
    {
        string size = Height == Width ? $"{Height}" : $"{Height}x{Width}";
        string fill = ResizeMode == ResizeMode.Longest ? $";fill={FillColor}" : "";
        string edge = ResizeMode == ResizeMode.Shortest && ShortestEdge is { } e && e != Size ? $";resize={e}" : "";
        return FormattableString.Invariant(
            $"size={size};mode={ResizeMode.ToString().ToLowerInvariant()};filter={Filter.ToString().ToLowerInvariant()};mean={string.Join(',', Mean)};std={string.Join(',', Std)}{fill}{edge}");
    }
}

public enum ResizeMode
{
    /// <summary>The shorter side to fit, then a centre crop (CLIP's default).</summary>
    Shortest,

    /// <summary>Both sides to the input size; the aspect ratio is not kept.</summary>
    Squash,

    /// <summary>The longer side to fit, the aspect ratio kept, the rest padded with the fill colour.</summary>
    Longest,
}

public enum ResampleFilter { Bicubic, Bilinear }

public enum CropRounding
{
    /// <summary>torchvision: <c>int(round((h - S) / 2.0))</c>, halves to even.</summary>
    HalfToEven,

    /// <summary>transformers: <c>(h - S) // 2</c>.</summary>
    Floor,
}
