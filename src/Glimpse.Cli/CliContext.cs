using System.Text.Json;
using Glimpse.Catalog;

namespace Glimpse.Cli;

/// <summary>Where results (stdout) and diagnostics (stderr) go, and helpers shared by the commands.</summary>
internal sealed class CliContext
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public TextWriter Out { get; init; } = System.Console.Out;
    public TextWriter Err { get; init; } = System.Console.Error;
    public bool ErrIsTerminal { get; init; } = !System.Console.IsErrorRedirected;

    public void Warn(string message) => Err.WriteLine($"glimpse: {message}");

    public void WriteJson(object value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>The catalog file for a library root: <c>--catalog</c> if given, else <c>ROOT/.glimpse/catalog.db</c>.</summary>
    public static string CatalogPath(string root, string? catalog) =>
        Path.GetFullPath(catalog ?? Path.Combine(root, ".glimpse", "catalog.db"));

    /// <summary>Opens an existing catalog for reading commands; null (with a message) when there is none.</summary>
    public SqliteCatalog? OpenExisting(string root, string? catalog)
    {
        string path = CatalogPath(root, catalog);
        if (!File.Exists(path))
        {
            Warn($"no catalog at {path}: run 'glimpse index {root}' first (or pass --catalog PATH).");
            return null;
        }
        return new SqliteCatalog(path);
    }
}
