using System.Text.RegularExpressions;
using Glimpse.Catalog.Postgres;
using Npgsql;

namespace Glimpse.Catalog;

/// <summary>
/// What <c>--catalog</c> names: a SQLite file (the default), or a library in a PostgreSQL database,
/// given as <c>postgres://user@host:port/db?root=NAME</c> or as a connection string with
/// <c>Root=NAME</c>. The password comes from the URL, PGPASSWORD or ~/.pgpass, and never appears
/// in <see cref="Display"/>.
/// </summary>
public sealed partial record CatalogAddress
{
    /// <summary>The library name used when a PostgreSQL address names none.</summary>
    public const string DefaultRootName = "default";

    /// <summary>How long the server lets a Glimpse session sit idle inside a transaction before ending it.</summary>
    const int IdleTransactionTimeoutMs = 15_000;

    CatalogAddress(string? sqlitePath, string? connectionString, string? rootName, string display) =>
        (SqlitePath, ConnectionString, RootName, Display) = (sqlitePath, connectionString, rootName, display);

    /// <summary>The catalog file, for the SQLite back-end; null for PostgreSQL.</summary>
    public string? SqlitePath { get; }

    /// <summary>The Npgsql connection string, for the PostgreSQL back-end; null for SQLite.</summary>
    public string? ConnectionString { get; }

    /// <summary>The library's name in a PostgreSQL catalog (each machine maps it to its own mount point).</summary>
    public string? RootName { get; }

    /// <summary>Where the catalog is, safe to print: a file path, or the server and library without a password.</summary>
    public string Display { get; }

    public bool IsPostgres => ConnectionString is not null;

    /// <summary>True when the text names a PostgreSQL catalog rather than a file.</summary>
    public static bool LooksLikePostgres(string text) =>
        text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || ConnectionStringHost().IsMatch(text);

    /// <exception cref="CatalogException">The address is malformed.</exception>
    public static CatalogAddress Parse(string text)
    {
        if (!LooksLikePostgres(text))
            return Sqlite(text);
        var builder = new NpgsqlConnectionStringBuilder();
        string root = DefaultRootName;
        try
        {
            if (text.Contains("://", StringComparison.Ordinal))
                root = ReadUrl(text, builder);
            else
            {
                // Root is Glimpse's keyword, not Npgsql's: take it out before Npgsql reads the rest.
                var pairs = text.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).ToList();
                if (pairs.FirstOrDefault(kv => kv[0].Trim().Equals("Root", StringComparison.OrdinalIgnoreCase)) is { Length: 2 } rootPair)
                    root = rootPair[1].Trim();
                builder.ConnectionString = string.Join(';', pairs.Where(kv => !kv[0].Trim().Equals("Root", StringComparison.OrdinalIgnoreCase)).Select(kv => string.Join('=', kv)));
            }
        }
        catch (Exception e) when (e is ArgumentException or UriFormatException or FormatException)
        {
            throw new CatalogException($"cannot read the catalog address: {e.Message} Expected postgres://user@host:port/db?root=NAME.", e);
        }
        if (!ValidRootName().IsMatch(root))
            throw new CatalogException($"'{root}' is not a usable library name: use letters, digits, '.', '_' or '-'.");
        builder.ApplicationName ??= "glimpse";
        // A worker frozen mid-transaction (a suspended laptop, a partitioned network) would hold
        // its rows' locks until TCP gives up; Glimpse's transactions last milliseconds, so the
        // server may end one left idle this long and let the others take over.
        builder.Options ??= $"-c idle_in_transaction_session_timeout={IdleTransactionTimeoutMs}";
        string display = $"postgres://{(builder.Username is { } u ? u + "@" : "")}{builder.Host}:{builder.Port}/{builder.Database}?root={root}";
        return new CatalogAddress(null, builder.ConnectionString, root, display);
    }

    public static CatalogAddress Sqlite(string path)
    {
        string full = Path.GetFullPath(path);
        return new CatalogAddress(full, null, null, full);
    }

    /// <summary>Opens (creating if needed) the catalog this address names.</summary>
    /// <param name="warn">Told when a server's catalog lost its connection and is reconnecting.</param>
    /// <param name="stop">A stop signal: a server catalog then stops waiting for a lost connection.</param>
    /// <exception cref="CatalogException">It cannot be opened.</exception>
    public ICatalog Open(Action<string>? warn = null, CancellationToken stop = default) =>
        IsPostgres ? new PostgresCatalog(this, warn, stop) : new SqliteCatalog(SqlitePath!);

    static string ReadUrl(string text, NpgsqlConnectionStringBuilder builder)
    {
        var uri = new Uri(text);
        builder.Host = uri.Host;
        if (uri.Port > 0)
            builder.Port = uri.Port;
        builder.Database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } db ? db : null;
        if (uri.UserInfo.Length > 0)
        {
            string[] parts = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length == 2)
                builder.Password = Uri.UnescapeDataString(parts[1]);
        }
        string root = DefaultRootName;
        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]), value = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
            if (key.Equals("root", StringComparison.OrdinalIgnoreCase))
                root = value;
            else
                builder[key] = value; // sslmode, timeouts...: Npgsql's own keywords
        }
        return root;
    }

    [GeneratedRegex(@"(^|;)\s*(Host|Server)\s*=", RegexOptions.IgnoreCase)]
    private static partial Regex ConnectionStringHost();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex ValidRootName();

    public override string ToString() => Display;
}
