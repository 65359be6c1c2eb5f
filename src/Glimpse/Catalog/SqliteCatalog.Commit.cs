using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

internal sealed partial class SqliteCatalog
{
    public CommitResult Commit(string owner, IReadOnlyList<EmbeddedImage> done, IReadOnlyList<FailedImage> failed) =>
        Writing(() => CommitUnguarded(owner, done, failed));

    CommitResult CommitUnguarded(string owner, IReadOnlyList<EmbeddedImage> done, IReadOnlyList<FailedImage> failed)
    {
        VectorBlob.CheckBatch(Model, done.Select(d => (d.Id, d.Vector)));

        lock (_lock)
        {
            // One IMMEDIATE transaction holds the vectors, their embedding_index and the status
            // change: a reader or a crash sees all of the batch or none of it. Every statement is
            // an index lookup or an append, so the cost does not grow with the catalog.
            using var tx = _db.BeginTransaction(deferred: false);
            // NB: read the clock only once the write lock is held, so done_at follows commit order
            // (the ANN index relies on it to find what was committed after its last update).
            long now = NowMs();
            long next = long.Parse(ReadInfo("next_embedding_index", tx), System.Globalization.CultureInfo.InvariantCulture);

            // Fenced on the lease: a worker presumed dead whose rows were taken over changes nothing.
            using var markDone = Command("""
                UPDATE images SET status = 2, embedding_index = COALESCE(embedding_index, $next),
                    lease_owner = NULL, lease_until = NULL, fail_stage = NULL, fail_reason = NULL,
                    attempts = attempts + 1, done_at = $now, content_hash = COALESCE($hash, content_hash)
                WHERE id = $id AND status = 1 AND lease_owner = $owner
                RETURNING embedding_index
                """, tx, ("$now", now), ("$owner", owner));
            var doneId = markDone.Parameters.Add("$id", SqliteType.Integer);
            var nextParam = markDone.Parameters.Add("$next", SqliteType.Integer);
            var hashParam = markDone.Parameters.Add("$hash", SqliteType.Text);

            using var putVector = Command("""
                INSERT INTO vectors(image_id, vector) VALUES ($id, $vector)
                ON CONFLICT(image_id) DO UPDATE SET vector = excluded.vector
                """, tx);
            var vectorId = putVector.Parameters.Add("$id", SqliteType.Integer);
            var vectorBlob = putVector.Parameters.Add("$vector", SqliteType.Blob);

            int committed = 0, rejected = 0;
            foreach (var image in done)
            {
                doneId.Value = image.Id;
                nextParam.Value = next;
                hashParam.Value = (object?)image.ContentHash ?? DBNull.Value;
                object? index = markDone.ExecuteScalar();
                if (index is null)
                {
                    rejected++;
                    continue;
                }
                if ((long)index == next)
                    next++;
                vectorId.Value = image.Id;
                vectorBlob.Value = ToBlob(image.Vector);
                putVector.ExecuteNonQuery();
                committed++;
            }

            using var markFailed = Command("""
                UPDATE images SET status = 3, fail_stage = $stage, fail_reason = $reason, attempts = attempts + 1,
                    lease_owner = NULL, lease_until = NULL
                WHERE id = $id AND status = 1 AND lease_owner = $owner
                """, tx, ("$owner", owner));
            var failedId = markFailed.Parameters.Add("$id", SqliteType.Integer);
            var stage = markFailed.Parameters.Add("$stage", SqliteType.Text);
            var reason = markFailed.Parameters.Add("$reason", SqliteType.Text);
            int failures = 0;
            foreach (var image in failed)
            {
                failedId.Value = image.Id;
                stage.Value = image.Stage;
                reason.Value = image.Reason;
                int changed = markFailed.ExecuteNonQuery();
                failures += changed;
                rejected += 1 - changed;
            }

            Execute("UPDATE catalog_info SET value = $v WHERE key = 'next_embedding_index'", tx, ("$v", next.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            tx.Commit();
            return new CommitResult(committed, failures, rejected);
        }
    }

    string ReadInfo(string key, SqliteTransaction? tx)
    {
        using var cmd = Command("SELECT value FROM catalog_info WHERE key = $k", tx, ("$k", key));
        return (string?)cmd.ExecuteScalar() ?? throw new CatalogException($"{Location} lacks its '{key}' entry: the catalog is damaged.");
    }
}
