namespace Glimpse.Imaging;

/// <summary>How an image becomes the model's input tensor, as read from the model folder.</summary>
public sealed record PreprocessConfig
{
    /// <summary>The side S of the square input. CLIP ViT-B/32 uses 224.</summary>
    public required int Size { get; init; }

    /// <summary>Per-channel (R, G, B) mean subtracted after scaling to [0, 1].</summary>
    public required float[] Mean { get; init; }

    /// <summary>Per-channel (R, G, B) standard deviation divided by after the mean.</summary>
    public required float[] Std { get; init; }

    /// <summary>
    /// <see cref="ResizeMode.Shortest"/>: shortest side to S, then centre-crop (CLIP's default).
    /// <see cref="ResizeMode.Squash"/>: both sides to S, aspect ratio not kept.
    /// </summary>
    public ResizeMode ResizeMode { get; init; } = ResizeMode.Shortest;

    /// <summary>The resampling filter, PIL's antialiased bicubic unless the folder says bilinear.</summary>
    public ResampleFilter Filter { get; init; } = ResampleFilter.Bicubic;

    /// <summary>OpenAI CLIP's normalisation at 224 px.</summary>
    public static PreprocessConfig OpenAiClip(int size = 224) => new()
    {
        Size = size,
        Mean = [0.48145466f, 0.4578275f, 0.40821073f],
        Std = [0.26862954f, 0.26130258f, 0.27577711f],
    };

    /// <summary>A stable text form, stored in the catalog to tell models apart.</summary>
    public string Describe() =>
        FormattableString.Invariant(
            $"size={Size};mode={ResizeMode.ToString().ToLowerInvariant()};filter={Filter.ToString().ToLowerInvariant()};mean={string.Join(',', Mean)};std={string.Join(',', Std)}");
}

public enum ResizeMode { Shortest, Squash }

public enum ResampleFilter { Bicubic, Bilinear }
