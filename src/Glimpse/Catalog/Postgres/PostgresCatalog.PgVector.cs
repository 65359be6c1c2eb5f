using System.Globalization;
using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary>
/// pgvector, where the server has it: every vector is also kept in a <c>vector</c> column with an
/// HNSW index, so a search can run inside the database. The bytea column stays the source of
/// truth; without pgvector (any PostgreSQL ≥ 13) nothing here runs and search streams the vectors
/// into Glimpse's own index instead.
/// </summary>
internal sealed partial class PostgresCatalog
{
    /// <summary>Vectors written back per statement when the column is first filled.</summary>
    const int BackfillChunk = 1000;

    /// <summary>True when pgvector is installed in this database and the library's vectors are searchable there.</summary>
    public bool HasPgvector { get; private set; }

    public bool SearchesInDatabase => HasPgvector;

    public bool EnableInDatabaseSearch() => EnablePgvector();

    /// <summary>
    /// Creates the extension if the server offers it and this role may, adds the column and the
    /// HNSW index for the library's dimension, and fills the column for vectors stored before.
    /// Returns false (changing nothing) when the server has no pgvector.
    /// </summary>
    public bool EnablePgvector()
    {
        int dimension = Model?.Dimension ?? throw new InvalidOperationException("Bind a model before enabling pgvector.");
        using var conn = Open();
        using (var available = Cmd(conn, "SELECT COUNT(*) FROM pg_available_extensions WHERE name = 'vector'", null))
            if (Convert.ToInt64(available.ExecuteScalar()) == 0)
                return HasPgvector = false;
        foreach (string sql in new[]
                 {
                     "CREATE EXTENSION IF NOT EXISTS vector",
                     "ALTER TABLE glimpse.vectors ADD COLUMN IF NOT EXISTS embedding vector",
                     // One expression index per dimension: libraries of different models share the table.
                     $"CREATE INDEX IF NOT EXISTS vectors_hnsw_{dimension} ON glimpse.vectors USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) WHERE vector_dims(embedding) = {dimension}",
                 })
            using (var cmd = Cmd(conn, sql, null))
                cmd.ExecuteNonQuery();
        HasPgvector = true;

        while (true)
        {
            var missing = new List<(long, float[])>();
            using (var cmd = Cmd(conn, """
                SELECT v.image_id, v.vector FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id
                WHERE i.library_id = @lib AND v.embedding IS NULL LIMIT @n
                """, null, ("lib", _library), ("n", BackfillChunk)))
            using (var r = cmd.ExecuteReader())
                while (r.Read())
                    missing.Add((r.GetInt64(0), VectorBlob.ToVector(r.GetFieldValue<byte[]>(1))));
            if (missing.Count == 0)
                return true;
            WriteEmbeddingColumn(conn, null, missing);
        }
    }

    /// <summary>Detects whether the column exists (pgvector was enabled for this database before).</summary>
    void DetectPgvector(NpgsqlConnection conn)
    {
        using var cmd = Cmd(conn, """
            SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'glimpse' AND table_name = 'vectors' AND column_name = 'embedding'
            """, null);
        HasPgvector = Convert.ToInt64(cmd.ExecuteScalar()) > 0;
    }

    /// <summary>Keeps the pgvector column in step with the bytea vectors, in the caller's transaction.</summary>
    void WriteEmbeddingColumn(NpgsqlConnection conn, NpgsqlTransaction? tx, IReadOnlyList<(long Id, float[] Vector)> vectors)
    {
        if (!HasPgvector || vectors.Count == 0)
            return;
        using var cmd = Cmd(conn, """
            UPDATE glimpse.vectors SET embedding = e.v::vector FROM unnest(@ids::bigint[], @texts::text[]) AS e(id, v) WHERE image_id = e.id
            """, tx, ("ids", vectors.Select(v => v.Id).ToArray()), ("texts", vectors.Select(v => ToVectorLiteral(v.Vector)).ToArray()));
        cmd.ExecuteNonQuery();
    }

    /// <summary>The nearest done images by cosine, found by pgvector's HNSW index inside the database.</summary>
    public IReadOnlyList<(long ImageId, string Path, float Score)> SearchInDatabase(float[] query, int limit)
    {
        if (!HasPgvector)
            throw new CatalogException($"{Location}: the server has no pgvector (CREATE EXTENSION vector): search without --in-database.");
        int d = query.Length;
        using var conn = Open();
        using var cmd = Cmd(conn, $"""
            SELECT i.id, i.path, 1 - ((v.embedding::vector({d})) <=> @q::vector({d}))
            FROM glimpse.vectors v JOIN glimpse.images i ON i.id = v.image_id
            WHERE vector_dims(v.embedding) = {d} AND i.library_id = @lib AND i.status = 2
            ORDER BY (v.embedding::vector({d})) <=> @q::vector({d})
            LIMIT @k
            """, null, ("lib", _library), ("q", ToVectorLiteral(query)), ("k", limit));
        using var r = cmd.ExecuteReader();
        var hits = new List<(long, string, float)>();
        while (r.Read())
            hits.Add((r.GetInt64(0), r.GetString(1), (float)r.GetDouble(2)));
        return hits;
    }

    static string ToVectorLiteral(float[] vector) =>
        "[" + string.Join(',', vector.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
