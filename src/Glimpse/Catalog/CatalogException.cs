namespace Glimpse.Catalog;

/// <summary>The catalog cannot be used as asked (newer schema, other model, corrupt file). Stops the run.</summary>
public sealed class CatalogException : Exception
{
    public CatalogException(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>The catalog at <paramref name="location"/> holds vectors of <paramref name="stored"/>, not of <paramref name="offered"/>.</summary>
    /// <param name="separateIndexHint">How to keep a separate index for the offered model with this back-end.</param>
    internal static CatalogException ModelMismatch(string location, ModelIdentity stored, ModelIdentity offered, string separateIndexHint) =>
        new($"{location} holds {stored.Dimension}-d vectors of model '{stored.Name}' (visual sha256 {stored.VisualSha256[..12]}…), " +
            $"not of '{offered.Name}' (sha256 {offered.VisualSha256[..12]}…, {offered.Dimension}-d). Vectors of two models are never mixed: " +
            separateIndexHint);
}
