namespace Glimpse.Catalog;

/// <summary>The catalog cannot be used as asked (newer schema, other model, corrupt file). Stops the run.</summary>
public sealed class CatalogException : Exception
{
    public CatalogException(string message, Exception? inner = null) : base(message, inner) { }
}
