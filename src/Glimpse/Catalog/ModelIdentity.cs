namespace Glimpse.Catalog;

/// <summary>
/// What makes two models' vectors comparable: the exact visual weights (ModelFingerprint: the .onnx,
/// and its external-data files when it has them),
/// the embedding size and the preprocessing. Stored in the catalog; vectors of different
/// identities are never mixed. A catalog record: the catalog depends on nothing of the models.
/// </summary>
public sealed record ModelIdentity(string Name, int Dimension, string VisualSha256, string Preprocess)
{
    /// <summary>Where the model folder was when it last indexed: search finds the text encoder there without --model.</summary>
    public string? Folder { get; init; }

    /// <summary>True when vectors of <paramref name="other"/> can sit beside ours (the name alone may differ).</summary>
    public bool IsCompatibleWith(ModelIdentity other) =>
        Dimension == other.Dimension && VisualSha256 == other.VisualSha256 && Preprocess == other.Preprocess;
}
