namespace Glimpse.Catalog;

/// <summary>
/// The rule behind <see cref="ICatalog.BindModel"/>, the same for every back-end: the first model
/// is recorded; a compatible one (same weights, size and preprocessing, whatever its name) is
/// accepted and its folder remembered; any other is refused.
/// </summary>
internal static class ModelBinding
{
    /// <summary>What to do: the identity the catalog holds from now on, and whether it must be written.</summary>
    public sealed record Decision(ModelIdentity Bound, bool Write);

    /// <param name="stored">The model the catalog holds, or null.</param>
    /// <param name="offered">The model a run wants to use.</param>
    /// <param name="separateIndexHint">How to keep a separate index on this back-end, for the refusal.</param>
    /// <exception cref="CatalogException">The catalog holds vectors of another model.</exception>
    public static Decision Decide(ModelIdentity? stored, ModelIdentity offered, string location, string separateIndexHint)
    {
        if (stored is null)
            return new Decision(offered, Write: true);
        if (!stored.IsCompatibleWith(offered))
            throw CatalogException.ModelMismatch(location, stored, offered, separateIndexHint);
        // The stored name stays (the vectors were made under it); a moved folder is remembered.
        return offered.Folder is not null && offered.Folder != stored.Folder
            ? new Decision(stored with { Folder = offered.Folder }, Write: true)
            : new Decision(stored, Write: false);
    }
}
