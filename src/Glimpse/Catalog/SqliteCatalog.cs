using Microsoft.Data.Sqlite;

namespace Glimpse.Catalog;

/// <summary>
/// The embedded catalog: one SQLite file in WAL mode. Several processes may open the same file;
/// SQLite serialises their writes and WAL lets readers (<c>glimpse status</c>) run beside them.
/// Within a process one connection is shared under a lock.
/// </summary>
internal sealed partial class SqliteCatalog : ICatalog
{
    const string ModelKeyPrefix = "model.";

    readonly SqliteConnection _db;
    readonly Lock _lock = new();
    readonly TimeProvider _clock;
    bool _disposed;
    bool _scanning;

    public SqliteCatalog(string path) : this(path, TimeProvider.System) { }

    internal SqliteCatalog(string path, TimeProvider clock)
    {
        Location = Path.GetFullPath(path);
        _clock = clock;
        Directory.CreateDirectory(Path.GetDirectoryName(Location)!);
        _db = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Location,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = 60,
        }.ToString());
        try
        {
            _db.Open();
            // page_size only takes effect on a new file: 16 KB pages fit 2 KB vectors without
            // doubling the file as 4 KB pages do. synchronous=FULL makes each commit survive a
            // power cut, for under a millisecond per batch.
            Execute("""
                PRAGMA page_size = 16384;
                PRAGMA journal_mode = WAL;
                PRAGMA synchronous = FULL;
                PRAGMA foreign_keys = ON;
                PRAGMA busy_timeout = 60000;
                """);
            CatalogSchema.Migrate(_db, Location);
            Model = ReadModel();
        }
        catch (SqliteException e)
        {
            _db.Dispose();
            throw new CatalogException($"cannot open the catalog {Location}: {e.Message}", e);
        }
        catch
        {
            _db.Dispose();
            throw;
        }
    }

    public string Location { get; }

    /// <summary>The catalog file's path: derived data sits beside it (<c>catalog.db.usearch</c>).</summary>
    public string DerivedDataPrefix => Location;

    public ModelIdentity? Model { get; private set; }

    public void BindModel(ModelIdentity model)
    {
        lock (_lock)
        {
            using var tx = _db.BeginTransaction(deferred: false);
            var decision = ModelBinding.Decide(ReadModel(tx), model, Location, "pass --catalog PATH to keep a separate index for this model.");
            if (decision.Write)
            {
                ModelIdentity bound = decision.Bound;
                foreach (var (key, value) in new[]
                         {
                             ("name", bound.Name), ("dimension", bound.Dimension.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                             ("visual_sha256", bound.VisualSha256), ("preprocess", bound.Preprocess),
                         }.Concat(bound.Folder is null ? [] : new[] { ("folder", bound.Folder) }))
                    Execute("INSERT INTO catalog_info(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        tx, ("$k", ModelKeyPrefix + key), ("$v", value));
                tx.Commit();
            }
            Model = decision.Bound;
        }
    }

    ModelIdentity? ReadModel(SqliteTransaction? tx = null)
    {
        var values = new Dictionary<string, string>();
        using var cmd = Command("SELECT key, value FROM catalog_info WHERE key LIKE 'model.%'", tx);
        using (var reader = cmd.ExecuteReader())
            while (reader.Read())
                values[reader.GetString(0)[ModelKeyPrefix.Length..]] = reader.GetString(1);
        if (!values.TryGetValue("visual_sha256", out string? sha))
            return null;
        return new ModelIdentity(values["name"], int.Parse(values["dimension"], System.Globalization.CultureInfo.InvariantCulture), sha, values["preprocess"])
        {
            Folder = values.GetValueOrDefault("folder"),
        };
    }

    long NowMs() => _clock.GetUtcNow().ToUnixTimeMilliseconds();

    static float[] ToVector(byte[] blob) => VectorBlob.ToVector(blob);

    static byte[] ToBlob(float[] vector) => VectorBlob.ToBlob(vector);

    SqliteCommand Command(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    int Execute(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return cmd.ExecuteNonQuery();
    }

    long Scalar(string sql, SqliteTransaction? tx = null, params (string Name, object? Value)[] parameters)
    {
        using var cmd = Command(sql, tx, parameters);
        return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            try
            {
                // A clean exit folds the WAL back into the catalog file, so the file alone is whole
                // (another process still writing keeps its WAL; that is fine, and not an error).
                Execute("PRAGMA wal_checkpoint(TRUNCATE)");
            }
            catch (SqliteException)
            {
            }
            _disposed = true;
            _db.Dispose();
        }
    }
}
