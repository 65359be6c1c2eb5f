using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>Taking in vectors made elsewhere (glimpse import).</summary>
internal sealed partial class SqliteCatalog
{
    public int Adopt(IReadOnlyList<(ScannedFile File, float[] Vector)> images)
    {
        VectorBlob.CheckBatch(Model, images.Select(i => (0L, i.Vector)));

        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            long now = NowMs(); // under the write lock: done_at follows commit order
            long next = long.Parse(ReadInfo("next_embedding_index", tx), System.Globalization.CultureInfo.InvariantCulture);
            using var insert = Command("""
                INSERT INTO images(path, size, mtime_ns, status, embedding_index, attempts, done_at) VALUES ($path, $size, $mtime, 2, $index, 1, $now)
                ON CONFLICT(path) DO NOTHING
                RETURNING id
                """, tx, ("$now", now));
            var path = insert.Parameters.Add("$path", SqliteType.Text);
            var size = insert.Parameters.Add("$size", SqliteType.Integer);
            var mtime = insert.Parameters.Add("$mtime", SqliteType.Integer);
            var index = insert.Parameters.Add("$index", SqliteType.Integer);
            using var putVector = Command("INSERT INTO vectors(image_id, vector) VALUES ($id, $vector)", tx);
            var vectorId = putVector.Parameters.Add("$id", SqliteType.Integer);
            var vectorBlob = putVector.Parameters.Add("$vector", SqliteType.Blob);

            int adopted = 0;
            foreach (var (file, vector) in images)
            {
                path.Value = file.Path;
                size.Value = file.Size;
                mtime.Value = file.MtimeNs;
                index.Value = next;
                if (insert.ExecuteScalar() is not long id)
                    continue; // already in the catalog
                next++;
                vectorId.Value = id;
                vectorBlob.Value = ToBlob(vector);
                putVector.ExecuteNonQuery();
                adopted++;
            }
            Execute("UPDATE catalog_info SET value = $v WHERE key = 'next_embedding_index'", tx, ("$v", next.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            tx.Commit();
            return adopted;
        }
    }

    public void RegisterPending(IReadOnlyList<(ScannedFile File, string Reason)> images)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            using var insert = Command("""
                INSERT INTO images(path, size, mtime_ns, status, fail_stage, fail_reason) VALUES ($path, $size, $mtime, 0, 'import', $reason)
                ON CONFLICT(path) DO NOTHING
                """, tx);
            var path = insert.Parameters.Add("$path", SqliteType.Text);
            var size = insert.Parameters.Add("$size", SqliteType.Integer);
            var mtime = insert.Parameters.Add("$mtime", SqliteType.Integer);
            var reason = insert.Parameters.Add("$reason", SqliteType.Text);
            foreach (var (file, why) in images)
            {
                path.Value = file.Path;
                size.Value = file.Size;
                mtime.Value = file.MtimeNs;
                reason.Value = why;
                insert.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }
}
