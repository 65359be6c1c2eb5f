using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>Moving a whole catalog between back-ends (<c>glimpse catalog copy</c>).</summary>
internal sealed partial class SqliteCatalog
{
    public IEnumerable<CatalogRow> ReadRows(string? afterPath = null)
    {
        // Its own read connection and one snapshot, like ReadVectors. SQLite's default (BINARY)
        // collation orders paths by their UTF-8 bytes, as PostgreSQL's "C" collation does.
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Location, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 60,
        }.ToString());
        db.Open();
        using var tx = db.BeginTransaction(deferred: true);
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            SELECT i.path, i.size, i.mtime_ns, i.status, i.fail_stage, i.fail_reason, i.attempts, i.embedding_index, i.done_at, i.content_hash, v.vector
            FROM images i LEFT JOIN vectors v ON v.image_id = i.id
            WHERE $after IS NULL OR i.path > $after
            ORDER BY i.path
            """;
        cmd.Parameters.AddWithValue("$after", (object?)afterPath ?? DBNull.Value);
        using var r = cmd.ExecuteReader();
        while (r.Read())
            yield return new CatalogRow(r.GetString(0), r.GetInt64(1), r.GetInt64(2), (ImageStatus)r.GetInt32(3),
                r.IsDBNull(4) ? null : r.GetString(4), r.IsDBNull(5) ? null : r.GetString(5), r.GetInt32(6),
                r.IsDBNull(7) ? null : r.GetInt64(7), r.IsDBNull(8) ? null : r.GetInt64(8), r.IsDBNull(9) ? null : r.GetString(9),
                r.IsDBNull(10) ? null : ToVector(r.GetFieldValue<byte[]>(10)));
    }

    public int CopyIn(IReadOnlyList<CatalogRow> rows)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            using var insert = Command("""
                INSERT INTO images(path, size, mtime_ns, status, fail_stage, fail_reason, attempts, embedding_index, done_at, content_hash)
                VALUES ($path, $size, $mtime, $status, $stage, $reason, $attempts, $index, $done_at, $hash)
                ON CONFLICT(path) DO NOTHING
                RETURNING id
                """, tx);
            var values = new[] { "$path", "$size", "$mtime", "$status", "$stage", "$reason", "$attempts", "$index", "$done_at", "$hash" }
                .Select(name => insert.Parameters.Add(name, SqliteType.Text)).ToArray();
            using var putVector = Command("INSERT INTO vectors(image_id, vector) VALUES ($id, $vector)", tx);
            var vectorId = putVector.Parameters.Add("$id", SqliteType.Integer);
            var vectorBlob = putVector.Parameters.Add("$vector", SqliteType.Blob);
            int written = 0;
            foreach (CatalogRow row in rows)
            {
                object?[] fields = [row.Path, row.Size, row.MtimeNs, (int)CatalogCopier.CopiedStatus(row.Status), row.FailStage, row.FailReason,
                    row.Attempts, row.EmbeddingIndex, row.DoneAt, row.ContentHash];
                for (int i = 0; i < fields.Length; i++)
                {
                    values[i].SqliteType = fields[i] is string ? SqliteType.Text : SqliteType.Integer;
                    values[i].Value = fields[i] ?? DBNull.Value;
                }
                if (insert.ExecuteScalar() is not long id)
                    continue; // copied by an earlier, interrupted run
                if (row.Vector is not null)
                {
                    vectorId.Value = id;
                    vectorBlob.Value = ToBlob(row.Vector);
                    putVector.ExecuteNonQuery();
                }
                written++;
            }
            tx.Commit();
            return written;
        }
    }

    public CatalogCounters ReadCounters()
    {
        lock (_lock)
            return new CatalogCounters(
                long.Parse(TryReadInfo("next_embedding_index") ?? "0", CultureInfo.InvariantCulture),
                long.Parse(TryReadInfo("removed_images") ?? "0", CultureInfo.InvariantCulture));
    }

    public void RaiseCounters(CatalogCounters counters)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            foreach (var (key, value) in new[] { ("next_embedding_index", counters.NextEmbeddingIndex), ("removed_images", counters.RemovedImages) })
                Execute("""
                    INSERT INTO catalog_info(key, value) VALUES ($k, $v)
                    ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))
                    """, tx, ("$k", key), ("$v", value.ToString(CultureInfo.InvariantCulture)));
            tx.Commit();
        }
    }

    string? TryReadInfo(string key)
    {
        using var cmd = Command("SELECT value FROM catalog_info WHERE key = $k", null, ("$k", key));
        return cmd.ExecuteScalar() as string;
    }
}
