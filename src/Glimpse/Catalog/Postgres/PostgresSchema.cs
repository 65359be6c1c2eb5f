using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary>
/// The PostgreSQL catalog's schema (in the <c>glimpse</c> schema of the database) and its ordered
/// migration ladder. One database holds any number of libraries, each a named root; paths are
/// stored relative to it, so machines that mount the share at different places agree on every
/// image. Works on any PostgreSQL from 13 on: vectors are <c>bytea</c> float32.
/// </summary>
internal static class PostgresSchema
{
    public const int CurrentVersion = 2;

    // Same shape as the SQLite schema (CatalogSchema.cs), with a library id in front of every key.
    // Paths use the "C" collation: byte order, as SQLite's, so copies and folder ranges agree.
    const string Version1 = """
        CREATE TABLE glimpse.libraries(
            id                   serial PRIMARY KEY,
            name                 text NOT NULL UNIQUE,
            model_name           text,
            model_dimension      integer,
            model_sha256         text,
            model_preprocess     text,
            model_folder         text,
            next_embedding_index bigint NOT NULL DEFAULT 0,  -- given under this row's lock, in commit order
            removed_images       bigint NOT NULL DEFAULT 0
        );

        CREATE TABLE glimpse.images(
            id              bigserial PRIMARY KEY,
            library_id      integer NOT NULL REFERENCES glimpse.libraries(id) ON DELETE CASCADE,
            path            text COLLATE "C" NOT NULL,  -- relative to the library root, '/' separated
            size            bigint NOT NULL,
            mtime_ns        bigint NOT NULL,
            status          integer NOT NULL DEFAULT 0, -- ImageStatus
            lease_owner     text,
            lease_until     bigint,                     -- unix ms, server clock
            fail_stage      text,
            fail_reason     text,
            attempts        integer NOT NULL DEFAULT 0,
            embedding_index bigint,
            done_at         bigint,                     -- unix ms of the commit, server clock
            content_hash    text,
            UNIQUE (library_id, path),
            UNIQUE (library_id, embedding_index)
        );

        -- Claims read only unfinished rows: a partial index keeps that cheap at any size.
        CREATE INDEX images_unfinished ON glimpse.images(library_id, id) WHERE status < 2;
        CREATE INDEX images_leases ON glimpse.images(library_id, lease_owner) WHERE status = 1;
        CREATE INDEX images_done_at ON glimpse.images(library_id, done_at) WHERE done_at IS NOT NULL;
        CREATE INDEX images_content ON glimpse.images(library_id, content_hash) WHERE content_hash IS NOT NULL;

        CREATE TABLE glimpse.vectors(
            image_id bigint PRIMARY KEY REFERENCES glimpse.images(id) ON DELETE CASCADE,
            vector   bytea NOT NULL                      -- float32 little-endian, L2-normalised
        );
        """;

    // v2: what the last complete scan left out (not images), as JSON, for status.
    const string Version2 = """
        ALTER TABLE glimpse.libraries ADD COLUMN last_scan_skipped text;
        """;

    static readonly string[] Migrations = [Version1, Version2];

    public static void Migrate(NpgsqlConnection connection, string location)
    {
        using var tx = connection.BeginTransaction();
        // One process migrates at a time, whichever machine it runs on.
        Execute(connection, tx, "SELECT pg_advisory_xact_lock(hashtext('glimpse.schema'))");
        Execute(connection, tx, "CREATE SCHEMA IF NOT EXISTS glimpse; CREATE TABLE IF NOT EXISTS glimpse.schema_version(version integer NOT NULL)");
        using (var read = new NpgsqlCommand("SELECT COALESCE(MAX(version), 0) FROM glimpse.schema_version", connection, tx))
        {
            int version = Convert.ToInt32(read.ExecuteScalar());
            if (version > CurrentVersion)
                throw new CatalogException(
                    $"{location} was written by a newer Glimpse (catalog schema {version}; this Glimpse knows up to {CurrentVersion}). Upgrade Glimpse to use it.");
            for (; version < CurrentVersion; version++)
                Execute(connection, tx, Migrations[version]);
            Execute(connection, tx, $"DELETE FROM glimpse.schema_version; INSERT INTO glimpse.schema_version VALUES ({CurrentVersion})");
        }
        tx.Commit();
    }

    static void Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection, tx);
        cmd.ExecuteNonQuery();
    }
}
