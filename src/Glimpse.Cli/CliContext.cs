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

    /// <summary>The process's one stop signal (SIGINT, SIGTERM): every long-running command stops on its token.</summary>
    public StopSignal Stop { get; } = new();

    public void WriteJson(object value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>
    /// The catalog a command works on: <c>--catalog</c> (a file, or a PostgreSQL address) if given,
    /// else <c>ROOT/.glimpse/catalog.db</c>.
    /// </summary>
    public static CatalogAddress Address(string root, string? catalog) =>
        catalog is not null ? CatalogAddress.Parse(catalog) : CatalogAddress.Sqlite(Path.Combine(root, ".glimpse", "catalog.db"));

    /// <summary>
    /// The library folder on this machine: the mount point <c>--root-path NAME=DIR</c> gives for a
    /// server catalog's library, else ROOT.
    /// </summary>
    public static string LibraryRoot(string root, CatalogAddress address, string[]? rootPaths)
    {
        foreach (string mapping in rootPaths ?? [])
        {
            string[] parts = mapping.Split('=', 2);
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new CatalogException($"--root-path takes NAME=DIR (the library's name in the catalog, and where this machine mounts it), not '{mapping}'.");
            if (address.RootName == parts[0])
                return Path.GetFullPath(parts[1]);
        }
        return Path.GetFullPath(root);
    }

    /// <summary>Opens an existing catalog for reading commands; null (with a message) when there is no catalog file.</summary>
    public ICatalog? OpenExisting(string root, string? catalog) => OpenExisting(Address(root, catalog), IndexFirst(root));

    /// <summary>What to do when a library's catalog file is missing.</summary>
    public static string IndexFirst(string root) => $"run 'glimpse index {root}' first (or pass --catalog PATH)";

    /// <summary>Opens the catalog at <paramref name="address"/>; null, with "no catalog at ...: <paramref name="advice"/>", when there is no catalog file.</summary>
    public ICatalog? OpenExisting(CatalogAddress address, string advice)
    {
        if (!address.IsPostgres && !File.Exists(address.SqlitePath))
        {
            Warn($"no catalog at {address.SqlitePath}: {advice}.");
            return null;
        }
        return address.Open(Warn, Stop.Token);
    }
}
