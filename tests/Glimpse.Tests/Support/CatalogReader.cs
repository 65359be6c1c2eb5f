using Microsoft.Data.Sqlite;

namespace Glimpse.Tests.Support;

/// <summary>Reads a catalog file with plain SQL, independent of the code under test.</summary>
internal static class CatalogReader
{
    public sealed record Row(string Path, int Status, long? EmbeddingIndex, int Attempts, string? FailStage, string? FailReason, float[]? Vector);

    public static Dictionary<string, Row> ReadAll(string catalogPath)
    {
        using var db = new SqliteConnection($"Data Source={catalogPath};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = """
            SELECT i.path, i.status, i.embedding_index, i.attempts, i.fail_stage, i.fail_reason, v.vector
            FROM images i LEFT JOIN vectors v ON v.image_id = i.id
            """;
        using var r = cmd.ExecuteReader();
        var rows = new Dictionary<string, Row>();
        while (r.Read())
            rows.Add(r.GetString(0), ReadRow(r));
        return rows;
    }

    /// <summary>A row from columns (path, status, embedding_index, attempts, fail_stage, fail_reason, vector), as both back-ends' readers select them.</summary>
    public static Row ReadRow(System.Data.Common.DbDataReader r)
    {
        float[]? vector = null;
        if (!r.IsDBNull(6))
        {
            byte[] blob = r.GetFieldValue<byte[]>(6);
            vector = new float[blob.Length / 4];
            Buffer.BlockCopy(blob, 0, vector, 0, blob.Length);
        }
        return new Row(r.GetString(0), r.GetInt32(1), r.IsDBNull(2) ? null : r.GetInt64(2), r.GetInt32(3),
            r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), vector);
    }

    /// <summary>Asserts the catalog is complete and consistent: every row done with a vector, indexes 0..N-1 each once.</summary>
    public static void AssertCompleteAndDense(Dictionary<string, Row> rows)
    {
        Assert.All(rows.Values, r => Assert.Equal(2, r.Status));
        Assert.All(rows.Values, r => Assert.NotNull(r.Vector));
        var indexes = rows.Values.Select(r => r.EmbeddingIndex!.Value).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, rows.Count).Select(i => (long)i), indexes);
    }
}
