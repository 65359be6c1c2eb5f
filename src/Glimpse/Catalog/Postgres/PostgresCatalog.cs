using System.Globalization;
using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary>
/// The catalog in a PostgreSQL database, for many machines indexing one library: PostgreSQL's row
/// locks, transactions and durability do all the coordination. Claims take unfinished rows with
/// <c>FOR UPDATE SKIP LOCKED</c> under an expiring lease; a batch's vectors and statuses commit in
/// one transaction fenced on the lease owner; embedding_index and commit times are given under the
/// library row's lock, so they follow commit order. Lease and commit times come from the server's
/// clock, so machines whose clocks disagree still agree on when a lease expired.
/// </summary>
/// <remarks>
/// Connections come from Npgsql's pool, so calls from several threads run side by side. The calls an
/// index run makes go through <see cref="ServerRetry"/>: a lost connection is reopened and the
/// call run again, so a server restart does not end a run of days.
/// </remarks>
internal sealed partial class PostgresCatalog : ICatalog
{
    /// <summary>The server's clock in unix ms: one clock for leases and commit times, whatever each machine's says.</summary>
    const string ServerNowMs = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";

    readonly NpgsqlDataSource _source;
    readonly int _library;
    readonly ServerRetry _retry;
    bool _disposed;

    /// <param name="warn">Told, once per outage, that the connection was lost and is being reopened.</param>
    /// <param name="stop">Ends waiting for a lost server (the process is stopping).</param>
    public PostgresCatalog(CatalogAddress address, Action<string>? warn = null, CancellationToken stop = default)
    {
        if (!address.IsPostgres)
            throw new ArgumentException("Not a PostgreSQL address.", nameof(address));
        Location = address.Display;
        RootName = address.RootName!;
        _retry = new ServerRetry(warn, Location, stop);
        _source = NpgsqlDataSource.Create(address.ConnectionString!);
        try
        {
            using var conn = _source.OpenConnection();
            PostgresSchema.Migrate(conn, Location);
            using (var create = Cmd(conn, "INSERT INTO glimpse.libraries(name) VALUES (@name) ON CONFLICT (name) DO NOTHING", null, ("name", RootName)))
                create.ExecuteNonQuery();
            using (var find = Cmd(conn, "SELECT id FROM glimpse.libraries WHERE name = @name", null, ("name", RootName)))
                _library = Convert.ToInt32(find.ExecuteScalar(), CultureInfo.InvariantCulture);
            Model = ReadModel(conn, null);
            DetectPgvector(conn);
        }
        catch (NpgsqlException e)
        {
            _source.Dispose();
            throw new CatalogException($"cannot open the catalog {Location}: {OneLine(e)}", e);
        }
        catch
        {
            _source.Dispose();
            throw;
        }
    }

    public string Location { get; }

    /// <summary>The library's name in the database.</summary>
    public string RootName { get; }

    /// <summary>Derived data of a server's catalog lives in this machine's cache, one folder per server and library.</summary>
    public string DerivedDataPrefix
    {
        get
        {
            string name = string.Concat(Location.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' ? c : '_'));
            string dir = Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
                ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "glimpse", "catalogs");
            Directory.CreateDirectory(dir);
            return Path.Combine(dir, name);
        }
    }

    public ModelIdentity? Model { get; private set; }

    public void BindModel(ModelIdentity model) => _retry.Run(() => BindModelOnce(model));

    void BindModelOnce(ModelIdentity model)
    {
        using var conn = Open();
        using var tx = conn.BeginTransaction();
        using (var lockRow = Cmd(conn, "SELECT 1 FROM glimpse.libraries WHERE id = @lib FOR UPDATE", tx, ("lib", _library)))
            lockRow.ExecuteNonQuery();
        var decision = ModelBinding.Decide(ReadModel(conn, tx), model, Location,
            "use another ?root=NAME (or database) to keep a separate index for this model.");
        if (decision.Write)
        {
            ModelIdentity bound = decision.Bound;
            using var write = Cmd(conn, """
                UPDATE glimpse.libraries SET model_name = @name, model_dimension = @dim, model_sha256 = @sha, model_preprocess = @pre, model_folder = @folder
                WHERE id = @lib
                """, tx, ("lib", _library), ("name", bound.Name), ("dim", bound.Dimension), ("sha", bound.VisualSha256),
                ("pre", bound.Preprocess), ("folder", bound.Folder));
            write.ExecuteNonQuery();
        }
        tx.Commit();
        Model = decision.Bound;
    }

    ModelIdentity? ReadModel(NpgsqlConnection conn, NpgsqlTransaction? tx)
    {
        using var cmd = Cmd(conn, "SELECT model_name, model_dimension, model_sha256, model_preprocess, model_folder FROM glimpse.libraries WHERE id = @lib", tx,
            ("lib", _library));
        using var r = cmd.ExecuteReader();
        if (!r.Read() || r.IsDBNull(2))
            return null;
        return new ModelIdentity(r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetString(3)) { Folder = r.IsDBNull(4) ? null : r.GetString(4) };
    }

    NpgsqlConnection Open()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _source.OpenConnection();
    }

    static NpgsqlCommand Cmd(NpgsqlConnection conn, string sql, NpgsqlTransaction? tx, params (string Name, object? Value)[] parameters)
    {
        var cmd = new NpgsqlCommand(sql, conn, tx);
        foreach (var (name, value) in parameters)
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    /// <summary>Runs one statement on a pooled connection (again on a new one if the connection was lost) and returns the rows it changed.</summary>
    int Execute(string sql, params (string Name, object? Value)[] parameters) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, sql, null, [("lib", _library), .. parameters]);
        return cmd.ExecuteNonQuery();
    });

    long Scalar(string sql, params (string Name, object? Value)[] parameters) => _retry.Run(() =>
    {
        using var conn = Open();
        using var cmd = Cmd(conn, sql, null, [("lib", _library), .. parameters]);
        return Convert.ToInt64(cmd.ExecuteScalar() ?? 0L, CultureInfo.InvariantCulture);
    });

    static string OneLine(Exception e) => e.Message.ReplaceLineEndings(" ");

    public void Dispose()
    {
        lock (_source)
        {
            if (_disposed)
                return;
            _disposed = true;
            _scan?.Connection.Dispose();
            _source.Dispose();
        }
    }
}
