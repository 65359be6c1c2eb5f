using Npgsql;

namespace Glimpse.Tests.Support;

/// <summary>
/// The PostgreSQL server <c>./test</c> starts (tests/postgres), named by GLIMPSE_TEST_POSTGRES.
/// Each test takes a library of its own (<c>?root=</c> a fresh name), so tests share one database
/// without seeing each other's rows.
/// </summary>
internal static class PostgresServer
{
    public static string? Url { get; } = Environment.GetEnvironmentVariable("GLIMPSE_TEST_POSTGRES") is { Length: > 0 } url ? url : null;

    /// <summary>A catalog address of a library no other test uses.</summary>
    public static string NewLibrary(string prefix = "t") => $"{Url}?root={prefix}-{Guid.NewGuid():N}";

    /// <summary>A plain connection to the test database, for reading rows independently of the code under test.</summary>
    public static NpgsqlConnection Connect()
    {
        var uri = new Uri(Url!);
        var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host, Port = uri.Port, Database = uri.AbsolutePath.Trim('/'), Username = uri.UserInfo, Pooling = false,
        }.ConnectionString);
        conn.Open();
        return conn;
    }
}

/// <summary>A fact that needs the test PostgreSQL server; reported skipped (never passed) without one.</summary>
internal sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.Url is null)
            Skip = "no PostgreSQL server: run ./test, which starts one (GLIMPSE_TEST_POSTGRES)";
    }
}
