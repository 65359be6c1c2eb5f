using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>
/// The SQLite catalog's schema and its ordered migration ladder, tracked in <c>PRAGMA user_version</c>.
/// Each step moves a catalog from version N-1 to N inside one transaction; a catalog newer than this
/// Glimpse is refused, never downgraded.
/// </summary>
internal static class CatalogSchema
{
    public const int CurrentVersion = 2;

    // Vectors live in their own table keyed by image id: claims and status updates touch only the
    // narrow images rows, and a 2 KB blob never sits in the pages a claim scans.
    const string Version1 = """
        CREATE TABLE catalog_info(
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE images(
            id              INTEGER PRIMARY KEY,
            path            TEXT NOT NULL UNIQUE,   -- relative to the library root, '/' separated
            size            INTEGER NOT NULL,
            mtime_ns        INTEGER NOT NULL,
            status          INTEGER NOT NULL DEFAULT 0,  -- ImageStatus: 0 pending, 1 claimed, 2 done, 3 failed
            lease_owner     TEXT,
            lease_until     INTEGER,                -- unix ms
            fail_stage      TEXT,
            fail_reason     TEXT,
            attempts        INTEGER NOT NULL DEFAULT 0,
            embedding_index INTEGER UNIQUE,         -- given once, in commit order, never reused
            done_at         INTEGER                 -- unix ms of the commit, for rate and ETA
        );

        -- Claims read only unfinished rows: this partial index keeps that cheap at a million rows.
        CREATE INDEX images_unfinished ON images(id) WHERE status < 2;
        CREATE INDEX images_leases ON images(lease_owner) WHERE status = 1;
        CREATE INDEX images_done_at ON images(done_at) WHERE done_at IS NOT NULL;

        CREATE TABLE vectors(
            image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
            vector   BLOB NOT NULL                  -- float32 little-endian, L2-normalised
        );

        INSERT INTO catalog_info(key, value) VALUES ('next_embedding_index', '0');
        """;

    // v2: content identity (moved and copied files reuse their vector) and the 'missing' status.
    const string Version2 = """
        ALTER TABLE images ADD COLUMN content_hash TEXT;  -- XXH3-64 of the file's bytes, hex, set when embedded
        CREATE INDEX images_content ON images(content_hash) WHERE content_hash IS NOT NULL;
        """;

    static readonly string[] Migrations = [Version1, Version2];

    public static void Migrate(SqliteConnection connection, string location)
    {
        long version = Scalar(connection, "PRAGMA user_version");
        if (version > CurrentVersion)
            throw new CatalogException(
                $"{location} was written by a newer Glimpse (catalog schema {version}; this Glimpse knows up to {CurrentVersion}). Upgrade Glimpse to use it.");

        while (version < CurrentVersion)
        {
            // BEGIN IMMEDIATE, then read the version again: two processes opening a new catalog at
            // once must not both run the same step.
            using var tx = connection.BeginTransaction(deferred: false);
            version = Scalar(connection, "PRAGMA user_version", tx);
            if (version >= CurrentVersion)
                break;
            using (var cmd = connection.CreateCommand())
            {
                cmd.Transaction = tx;
                cmd.CommandText = Migrations[version] + $";\nPRAGMA user_version = {version + 1};";
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
            version++;
        }
    }

    static long Scalar(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar());
    }
}
