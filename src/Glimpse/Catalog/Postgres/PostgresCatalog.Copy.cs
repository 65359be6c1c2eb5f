using System.Data;

namespace Glimpse.Catalog.Postgres;

/// <summary>Moving a whole catalog between back-ends (<c>glimpse catalog copy</c>).</summary>
internal sealed partial class PostgresCatalog
{
    public IEnumerable<CatalogRow> ReadRows(string? afterPath = null)
    {
        using var conn = Open();
        using var tx = conn.BeginTransaction(IsolationLevel.RepeatableRead);
        using var cmd = Cmd(conn, """
            SELECT i.path, i.size, i.mtime_ns, i.status, i.fail_stage, i.fail_reason, i.attempts, i.embedding_index, i.done_at, i.content_hash, v.vector
            FROM glimpse.images i LEFT JOIN glimpse.vectors v ON v.image_id = i.id
            WHERE i.library_id = @lib AND (@after::text IS NULL OR i.path > @after::text)
            ORDER BY i.path
            """, tx, ("lib", _library), ("after", afterPath));
        cmd.Parameters["after"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        using var r = cmd.ExecuteReader(CommandBehavior.SequentialAccess);
        while (r.Read())
        {
            string path = r.GetString(0);
            long size = r.GetInt64(1), mtime = r.GetInt64(2);
            var status = (ImageStatus)r.GetInt32(3);
            string? stage = r.IsDBNull(4) ? null : r.GetString(4), reason = r.IsDBNull(5) ? null : r.GetString(5);
            int attempts = r.GetInt32(6);
            long? index = r.IsDBNull(7) ? null : r.GetInt64(7), doneAt = r.IsDBNull(8) ? null : r.GetInt64(8);
            string? hash = r.IsDBNull(9) ? null : r.GetString(9);
            float[]? vector = r.IsDBNull(10) ? null : VectorBlob.ToVector(r.GetFieldValue<byte[]>(10));
            yield return new CatalogRow(path, size, mtime, status, stage, reason, attempts, index, doneAt, hash, vector);
        }
    }

    public int CopyIn(IReadOnlyList<CatalogRow> rows) => InsertRows(rows, giveIndexes: false);

    public CatalogCounters ReadCounters()
    {
        using var conn = Open();
        using var cmd = Cmd(conn, "SELECT next_embedding_index, removed_images FROM glimpse.libraries WHERE id = @lib", null, ("lib", _library));
        using var r = cmd.ExecuteReader();
        r.Read();
        return new CatalogCounters(r.GetInt64(0), r.GetInt64(1));
    }

    public void RaiseCounters(CatalogCounters counters) =>
        Execute("""
            UPDATE glimpse.libraries SET next_embedding_index = GREATEST(next_embedding_index, @next), removed_images = GREATEST(removed_images, @removed)
            WHERE id = @lib
            """, ("next", counters.NextEmbeddingIndex), ("removed", counters.RemovedImages));
}
