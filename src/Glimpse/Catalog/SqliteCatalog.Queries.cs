using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

internal sealed partial class SqliteCatalog
{
    public CatalogStats GetStats()
    {
        lock (_lock)
        {
            var byStatus = new List<(int, long)>();
            using (var cmd = Command("SELECT status, COUNT(*) FROM images GROUP BY status"))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read())
                    byStatus.Add((reader.GetInt32(0), reader.GetInt64(1)));

            var reasons = new List<(string, string, long)>();
            using (var cmd = Command("""
                SELECT COALESCE(fail_stage, ''), COALESCE(fail_reason, ''), COUNT(*) FROM images WHERE status = 3
                GROUP BY 1, 2 ORDER BY 3 DESC, 2 LIMIT $shown
                """, null, ("$shown", CatalogRules.FailureReasonsShown)))
            using (var reader = cmd.ExecuteReader())
                while (reader.Read())
                    reasons.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));

            long now = NowMs();
            long windowStart = now - (long)CatalogRules.RateWindow.TotalMilliseconds;
            long recent = Scalar("SELECT COUNT(*) FROM images WHERE done_at >= $since", null, ("$since", windowStart));
            long first = Scalar("SELECT COALESCE(MIN(done_at), 0) FROM images WHERE done_at >= $since", null, ("$since", windowStart));

            long bytes = new[] { "", "-wal" }.Select(s => new FileInfo(Location + s)).Where(f => f.Exists).Sum(f => f.Length);
            return CatalogRules.Stats(byStatus, reasons, CatalogRules.RecentRate(recent, first, now), bytes);
        }
    }

    public IReadOnlyList<FailedEntry> ListFailed()
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT path, COALESCE(fail_stage, ''), COALESCE(fail_reason, ''), attempts FROM images WHERE status = 3 ORDER BY path");
            using var reader = cmd.ExecuteReader();
            var rows = new List<FailedEntry>();
            while (reader.Read())
                rows.Add(new FailedEntry(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3)));
            return rows;
        }
    }

    public IEnumerable<StoredVector> ReadVectors()
    {
        // Its own read connection: WAL gives it one consistent snapshot while indexing goes on,
        // and a slow reader (an export of a million vectors) holds no lock of ours.
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Location, Mode = SqliteOpenMode.ReadOnly, Pooling = false, DefaultTimeout = 60,
        }.ToString());
        db.Open();
        using var tx = db.BeginTransaction(deferred: true); // one snapshot for the whole read
        using var cmd = db.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = """
            SELECT i.id, i.path, i.embedding_index, v.vector FROM images i JOIN vectors v ON v.image_id = i.id
            WHERE i.status = 2 ORDER BY i.embedding_index
            """;
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            yield return VectorBlob.ReadStored(reader);
    }

    /// <summary>Done images (those <see cref="ReadVectors"/> returns) right now.</summary>
    public long CountUnfinished()
    {
        lock (_lock)
            return Scalar("SELECT COUNT(*) FROM images WHERE status < 2"); // the partial index of unfinished rows
    }

    public DoneSet ReadDoneSet()
    {
        lock (_lock)
        {
            using var cmd = Command($"SELECT {DoneSet.Sql} FROM images WHERE status = 2");
            using var reader = cmd.ExecuteReader();
            reader.Read();
            return new DoneSet(reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    public long CountDone()
    {
        lock (_lock)
            return Scalar("SELECT COUNT(*) FROM images WHERE status = 2");
    }

    /// <summary>Done images committed at or after <paramref name="sinceMs"/> (unix ms), through the done_at index.</summary>
    public IReadOnlyList<StoredVector> ReadVectorsSince(long sinceMs)
    {
        lock (_lock)
        {
            using var cmd = Command("""
                SELECT i.id, i.path, i.embedding_index, v.vector FROM images i JOIN vectors v ON v.image_id = i.id
                WHERE i.done_at >= $since AND i.status = 2
                """, null, ("$since", sinceMs));
            using var reader = cmd.ExecuteReader();
            var rows = new List<StoredVector>();
            while (reader.Read())
                rows.Add(VectorBlob.ReadStored(reader));
            return rows;
        }
    }

    public long CountDoneSince(long sinceMs)
    {
        lock (_lock)
            return Scalar("SELECT COUNT(*) FROM images WHERE done_at >= $since AND status = 2", null, ("$since", sinceMs));
    }

    /// <summary>Paths of the given images that are done now (others are left out: gone, changed or removed).</summary>
    public IReadOnlyDictionary<long, string> DonePaths(IEnumerable<long> imageIds)
    {
        lock (_lock)
        {
            var result = new Dictionary<long, string>();
            using var cmd = Command("SELECT path FROM images WHERE id = $id AND status = 2");
            var id = cmd.Parameters.Add("$id", SqliteType.Integer);
            foreach (long imageId in imageIds.Distinct())
            {
                id.Value = imageId;
                if (cmd.ExecuteScalar() is string path)
                    result[imageId] = path;
            }
            return result;
        }
    }

    /// <summary>The latest commit time (done_at, unix ms) of any image, or 0.</summary>
    public long LastCommitMs()
    {
        lock (_lock)
            return Scalar("SELECT COALESCE(MAX(done_at), 0) FROM images WHERE done_at IS NOT NULL"); // through the partial index of commit times
    }

    /// <summary>The relative path of a done image by its id, or null (failed, missing and pending images are not served).</summary>
    public string? PathOfImage(long imageId)
    {
        lock (_lock)
        {
            using var cmd = Command("SELECT path FROM images WHERE id = $id AND status = 2", null, ("$id", imageId));
            return cmd.ExecuteScalar() as string;
        }
    }

    public StoredVector? FindDone(string path)
    {
        lock (_lock)
        {
            using var cmd = Command("""
                SELECT i.id, i.path, i.embedding_index, v.vector FROM images i JOIN vectors v ON v.image_id = i.id
                WHERE i.path = $path AND i.status = 2
                """, null, ("$path", path));
            using var reader = cmd.ExecuteReader();
            return reader.Read() ? VectorBlob.ReadStored(reader) : null;
        }
    }

    /// <summary>A SQLite catalog ranks nothing itself: search runs in Glimpse (exact or the ANN index).</summary>
    public bool SearchesInDatabase => false;

    public bool EnableInDatabaseSearch() => false;

    public IReadOnlyList<(long ImageId, string Path, float Score)> SearchInDatabase(float[] query, int limit) =>
        throw new CatalogException($"{Location} is a SQLite catalog: in-database search needs a PostgreSQL catalog with pgvector ('glimpse catalog pgvector').");
}
