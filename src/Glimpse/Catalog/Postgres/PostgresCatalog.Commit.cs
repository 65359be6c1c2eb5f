using Npgsql;

namespace Glimpse.Catalog.Postgres;

internal sealed partial class PostgresCatalog
{
    public CommitResult Commit(string owner, IReadOnlyList<EmbeddedImage> done, IReadOnlyList<FailedImage> failed)
    {
        VectorBlob.CheckBatch(Model, done.Select(d => (d.Id, d.Vector)));
        return _retry.Run(() => CommitOnce(owner, done, failed));
    }

    CommitResult CommitOnce(string owner, IReadOnlyList<EmbeddedImage> done, IReadOnlyList<FailedImage> failed)
    {
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        // 1. Fenced on the lease: rows taken over by another worker (this one was presumed dead)
        //    are not touched, and their vectors are not written.
        var accepted = new Dictionary<long, bool>(); // id -> needs an embedding_index
        using (var markDone = Cmd(conn, """
            UPDATE glimpse.images AS i SET status = 2, lease_owner = NULL, lease_until = NULL, fail_stage = NULL, fail_reason = NULL,
                attempts = i.attempts + 1, content_hash = COALESCE(d.hash, i.content_hash)
            FROM unnest(@ids::bigint[], @hashes::text[]) AS d(id, hash)
            WHERE i.id = d.id AND i.library_id = @lib AND i.status = 1 AND i.lease_owner = @owner
            RETURNING i.id, i.embedding_index IS NULL
            """, tx, ("lib", _library), ("owner", owner), ("ids", done.Select(d => d.Id).ToArray()), ("hashes", done.Select(d => d.ContentHash).ToArray())))
        using (var r = markDone.ExecuteReader())
            while (r.Read())
                accepted[r.GetInt64(0)] = r.GetBoolean(1);

        var kept = done.Where(d => accepted.ContainsKey(d.Id)).ToList();
        if (kept.Count > 0)
        {
            using var putVectors = Cmd(conn, """
                INSERT INTO glimpse.vectors(image_id, vector) SELECT * FROM unnest(@ids::bigint[], @vectors::bytea[])
                ON CONFLICT (image_id) DO UPDATE SET vector = excluded.vector
                """, tx, ("ids", kept.Select(d => d.Id).ToArray()), ("vectors", kept.Select(d => VectorBlob.ToBlob(d.Vector)).ToArray()));
            putVectors.ExecuteNonQuery();
            WriteEmbeddingColumn(conn, tx, kept.Select(d => (d.Id, d.Vector)).ToList());

            // 2. Only now take the library row's lock, held to the commit: embedding_index and
            //    done_at are given in commit order, and the lock is held for two short statements.
            long needed = kept.Count(d => accepted[d.Id]);
            long first, now;
            using (var counter = Cmd(conn, $"""
                UPDATE glimpse.libraries SET next_embedding_index = next_embedding_index + @n WHERE id = @lib
                RETURNING next_embedding_index - @n, {ServerNowMs}
                """, tx, ("lib", _library), ("n", needed)))
            using (var r = counter.ExecuteReader())
            {
                r.Read();
                (first, now) = (r.GetInt64(0), r.GetInt64(1));
            }
            long next = first;
            long?[] indexes = kept.Select(d => accepted[d.Id] ? next++ : (long?)null).ToArray();
            using var stamp = Cmd(conn, """
                UPDATE glimpse.images AS i SET embedding_index = COALESCE(i.embedding_index, a.idx), done_at = @now
                FROM unnest(@ids::bigint[], @idx::bigint[]) AS a(id, idx) WHERE i.id = a.id
                """, tx, ("ids", kept.Select(d => d.Id).ToArray()), ("idx", indexes), ("now", now));
            stamp.ExecuteNonQuery();
        }

        int failures = 0;
        if (failed.Count > 0)
        {
            using var markFailed = Cmd(conn, """
                UPDATE glimpse.images AS i SET status = 3, fail_stage = f.stage, fail_reason = f.reason, attempts = i.attempts + 1,
                    lease_owner = NULL, lease_until = NULL
                FROM unnest(@ids::bigint[], @stages::text[], @reasons::text[]) AS f(id, stage, reason)
                WHERE i.id = f.id AND i.library_id = @lib AND i.status = 1 AND i.lease_owner = @owner
                """, tx, ("lib", _library), ("owner", owner), ("ids", failed.Select(f => f.Id).ToArray()),
                ("stages", failed.Select(f => f.Stage).ToArray()), ("reasons", failed.Select(f => f.Reason).ToArray()));
            failures = markFailed.ExecuteNonQuery();
        }
        tx.Commit();
        return new CommitResult(kept.Count, failures, done.Count - kept.Count + failed.Count - failures);
    }

    public int Adopt(IReadOnlyList<(ScannedFile File, float[] Vector)> images)
    {
        VectorBlob.CheckBatch(Model, images.Select(i => (0L, i.Vector)));
        var rows = images.Select(i => new CatalogRow(i.File.Path, i.File.Size, i.File.MtimeNs, ImageStatus.Done, null, null, 1, null, null, null, i.Vector)).ToList();
        return InsertRows(rows, giveIndexes: true);
    }

    public void RegisterPending(IReadOnlyList<(ScannedFile File, string Reason)> images) =>
        InsertRows(images.Select(i => new CatalogRow(i.File.Path, i.File.Size, i.File.MtimeNs, ImageStatus.Pending, "import", i.Reason, 0, null, null, null, null)).ToList(),
            giveIndexes: false);

    /// <summary>
    /// Inserts whole rows (and their vectors) in one transaction, leaving paths already present
    /// alone. With <paramref name="giveIndexes"/>, each inserted done row gets the next
    /// embedding_index and a commit time under the library lock (adopting vectors made elsewhere);
    /// otherwise rows keep the index they carry (a copy from another catalog).
    /// </summary>
    int InsertRows(IReadOnlyList<CatalogRow> rows, bool giveIndexes)
    {
        if (rows.Count == 0)
            return 0;
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        long? now = null;
        long next = 0;
        if (giveIndexes)
        {
            using var counter = Cmd(conn, $"SELECT next_embedding_index, {ServerNowMs} FROM glimpse.libraries WHERE id = @lib FOR UPDATE", tx, ("lib", _library));
            using var r = counter.ExecuteReader();
            r.Read();
            (next, now) = (r.GetInt64(0), r.GetInt64(1));
        }

        using var insert = Cmd(conn, """
            INSERT INTO glimpse.images(library_id, path, size, mtime_ns, status, fail_stage, fail_reason, attempts, embedding_index, done_at, content_hash)
            VALUES (@lib, @path, @size, @mtime, @status, @stage, @reason, @attempts, @index, @done_at, @hash)
            ON CONFLICT (library_id, path) DO NOTHING
            RETURNING id
            """, tx, ("lib", _library), ("path", ""), ("size", 0L), ("mtime", 0L), ("status", 0), ("stage", null), ("reason", null),
            ("attempts", 0), ("index", null), ("done_at", null), ("hash", null));
        insert.Parameters["stage"].NpgsqlDbType = insert.Parameters["reason"].NpgsqlDbType = insert.Parameters["hash"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text;
        insert.Parameters["index"].NpgsqlDbType = insert.Parameters["done_at"].NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bigint;
        var vectors = new List<(long Id, float[] Vector)>();
        int written = 0;
        foreach (CatalogRow row in rows)
        {
            bool indexed = giveIndexes && row.Status == ImageStatus.Done;
            insert.Parameters["path"].Value = row.Path;
            insert.Parameters["size"].Value = row.Size;
            insert.Parameters["mtime"].Value = row.MtimeNs;
            insert.Parameters["status"].Value = (int)CatalogCopier.CopiedStatus(row.Status);
            insert.Parameters["stage"].Value = (object?)row.FailStage ?? DBNull.Value;
            insert.Parameters["reason"].Value = (object?)row.FailReason ?? DBNull.Value;
            insert.Parameters["attempts"].Value = row.Attempts;
            insert.Parameters["index"].Value = indexed ? next : (object?)row.EmbeddingIndex ?? DBNull.Value;
            insert.Parameters["done_at"].Value = indexed ? now!.Value : (object?)row.DoneAt ?? DBNull.Value;
            insert.Parameters["hash"].Value = (object?)row.ContentHash ?? DBNull.Value;
            if (insert.ExecuteScalar() is not long id)
                continue; // already here
            if (indexed)
                next++;
            if (row.Vector is not null)
                vectors.Add((id, row.Vector));
            written++;
        }
        if (vectors.Count > 0)
        {
            using var putVectors = Cmd(conn, "INSERT INTO glimpse.vectors(image_id, vector) SELECT * FROM unnest(@ids::bigint[], @vectors::bytea[])", tx,
                ("ids", vectors.Select(v => v.Id).ToArray()), ("vectors", vectors.Select(v => VectorBlob.ToBlob(v.Vector)).ToArray()));
            putVectors.ExecuteNonQuery();
            WriteEmbeddingColumn(conn, tx, vectors);
        }
        if (giveIndexes)
        {
            using var save = Cmd(conn, "UPDATE glimpse.libraries SET next_embedding_index = @next WHERE id = @lib", tx, ("lib", _library), ("next", next));
            save.ExecuteNonQuery();
        }
        tx.Commit();
        return written;
    }
}
