namespace Glimpse.Tests.Support;

/// <summary>Reads one library of a PostgreSQL catalog with plain SQL, like <see cref="CatalogReader"/> does for files.</summary>
internal static class PostgresReader
{
    public static Dictionary<string, CatalogReader.Row> ReadAll(string catalogUrl)
    {
        string root = catalogUrl[(catalogUrl.IndexOf("?root=", StringComparison.Ordinal) + 6)..];
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT i.path, i.status, i.embedding_index, i.attempts, i.fail_stage, i.fail_reason, v.vector,
                   (SELECT COUNT(*) FROM glimpse.vectors v2 WHERE v2.image_id = i.id)
            FROM glimpse.images i JOIN glimpse.libraries l ON l.id = i.library_id LEFT JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE l.name = @root
            """;
        cmd.Parameters.AddWithValue("root", root);
        using var r = cmd.ExecuteReader();
        var rows = new Dictionary<string, CatalogReader.Row>();
        while (r.Read())
        {
            Assert.True(r.GetInt64(7) <= 1, $"{r.GetString(0)} has {r.GetInt64(7)} vectors");
            rows.Add(r.GetString(0), CatalogReader.ReadRow(r));
        }
        return rows;
    }

    /// <summary>Lease owners holding rows of the library now.</summary>
    public static List<string> LeaseOwners(string catalogUrl)
    {
        string root = catalogUrl[(catalogUrl.IndexOf("?root=", StringComparison.Ordinal) + 6)..];
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT DISTINCT i.lease_owner FROM glimpse.images i JOIN glimpse.libraries l ON l.id = i.library_id
            WHERE l.name = @root AND i.status = 1
            """;
        cmd.Parameters.AddWithValue("root", root);
        using var r = cmd.ExecuteReader();
        var owners = new List<string>();
        while (r.Read())
            owners.Add(r.GetString(0));
        return owners;
    }
}
