using Glimpse.Catalog;
using Glimpse.Catalog.Postgres;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Catalog;

// An index run lasts days: the catalog server ending Glimpse's sessions (a restart, a network
// blip, or a worker frozen inside a transaction past idle_in_transaction_session_timeout) must
// cost a reconnect, not the run. The sessions are ended for real, with pg_terminate_backend.
public class ServerReconnectTests : IDisposable
{
    static readonly ModelIdentity Model = new("test-model", 4, new string('a', 64), "size=224");

    readonly string _application = $"glimpse-{Guid.NewGuid():N}"[..30];
    readonly List<string> _warnings = [];
    readonly PostgresCatalog _catalog = null!;

    public ServerReconnectTests()
    {
        if (PostgresServer.Url is null)
            return;
        _catalog = new PostgresCatalog(CatalogAddress.Parse($"{PostgresServer.NewLibrary("reconnect")}&Application%20Name={_application}"), _warnings.Add);
        _catalog.BindModel(Model);
    }

    static List<ScannedFile> Files(params string[] names) => names.Select((n, i) => new ScannedFile(n, 100, 1000 + i)).ToList();

    /// <summary>Ends every server session of this test's catalog; returns how many.</summary>
    int TerminateCatalogSessions()
    {
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = @app";
        cmd.Parameters.AddWithValue("app", _application);
        return Convert.ToInt32(cmd.ExecuteScalar());
    }

    [PostgresFact]
    public async Task A_commit_whose_session_the_server_ends_mid_transaction_is_run_again_and_lands_once()
    {
        _catalog.Register(Files("a.jpg", "b.jpg", "c.jpg", "d.jpg"));
        var claimed = _catalog.Claim("worker", 4, TimeSpan.FromMinutes(5));
        var done = claimed.Select(c => new EmbeddedImage(c.Id, [1, 0, 0, 0])).ToList();

        // Hold the library row, so the commit stops inside its transaction (after the fenced
        // UPDATE, waiting for the embedding_index counter); end its session there.
        using var blocker = PostgresServer.Connect();
        using var tx = blocker.BeginTransaction();
        using (var hold = blocker.CreateCommand())
        {
            hold.Transaction = tx;
            hold.CommandText = "SELECT 1 FROM glimpse.libraries WHERE name = @name FOR UPDATE";
            hold.Parameters.AddWithValue("name", _catalog.RootName);
            hold.ExecuteNonQuery();
        }
        Task<CommitResult> commit = Task.Run(() => _catalog.Commit("worker", done, []));
        WaitUntil(() => BlockedBy(blocker.ProcessID) > 0, "the commit to wait for the library row");
        Assert.True(TerminateCatalogSessions() >= 1);
        tx.Rollback();

        CommitResult result = await commit.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(new CommitResult(4, 0, 0), result);
        Assert.Equal(2, _warnings.Count);
        Assert.StartsWith("lost the connection to the catalog (57P01: terminating connection due to administrator command)", _warnings[0]);
        Assert.StartsWith("reconnected to the catalog after", _warnings[1]);
        var rows = PostgresReader.ReadAll($"{PostgresServer.Url}?root={_catalog.RootName}"); // at most one vector per image
        Assert.All(rows.Values, r => Assert.Equal((2, 1), (r.Status, r.Attempts)));
        Assert.Equal([0L, 1, 2, 3], rows.Values.Select(r => r.EmbeddingIndex!.Value).Order());
    }

    [PostgresFact]
    public void Every_call_of_an_index_run_survives_its_pooled_sessions_being_ended()
    {
        _catalog.Register(Files("a.jpg", "b.jpg"));
        TerminateCatalogSessions();
        var claimed = _catalog.Claim("worker", 2, TimeSpan.FromMinutes(5));
        Assert.Equal(2, claimed.Count);

        TerminateCatalogSessions();
        _catalog.RenewLeases("worker", TimeSpan.FromMinutes(5));
        TerminateCatalogSessions();
        Assert.Equal(["worker"], _catalog.ListLeaseOwners());
        TerminateCatalogSessions();
        Assert.Equal(new CommitResult(2, 0, 0), _catalog.Commit("worker", claimed.Select(c => new EmbeddedImage(c.Id, [0, 1, 0, 0])).ToList(), []));
        TerminateCatalogSessions();
        Assert.Equal(2, _catalog.GetStats().Done);
        TerminateCatalogSessions();
        Assert.False(_catalog.HasUnfinished());
        Assert.Contains(_warnings, w => w.Contains("lost the connection to the catalog"));
    }

    [PostgresFact]
    public void A_scan_that_loses_its_session_registers_the_rest_but_marks_nothing_missing()
    {
        _catalog.BeginScan();
        _catalog.Register(Files("a.jpg", "b.jpg", "c.jpg"));
        Assert.Equal(0, _catalog.CompleteScan([], allowMassDelete: true).NewlyMissing);

        // The rescan's seen-set lives in its server session: once that is gone, files not
        // registered again after it cannot be told from files deleted, so nothing is marked missing.
        _catalog.BeginScan();
        _catalog.Register(Files("a.jpg"));
        Assert.True(TerminateCatalogSessions() >= 1);
        _catalog.Register(Files("b.jpg", "new.jpg"));
        ScanCompletion completion = _catalog.CompleteScan([], allowMassDelete: true);

        Assert.Equal(0, completion.NewlyMissing);
        Assert.Contains("lost during the scan", completion.NotCheckedBecause);
        Assert.Equal(4, _catalog.GetStats().Pending); // c.jpg is not missing; new.jpg was registered

        // The next complete scan checks again.
        _catalog.BeginScan();
        _catalog.Register(Files("a.jpg", "b.jpg", "new.jpg"));
        completion = _catalog.CompleteScan([], allowMassDelete: true);
        Assert.Equal((1, null), (completion.NewlyMissing, completion.NotCheckedBecause));
    }

    [PostgresFact]
    public void A_server_that_stays_away_past_the_retry_window_is_one_clear_error()
    {
        var retry = new ServerRetry(_warnings.Add, "postgres://test") { Window = TimeSpan.FromSeconds(1) };
        int attempts = 0;
        var e = Assert.Throws<CatalogException>(() => retry.Run(() =>
        {
            attempts++;
            using var conn = PostgresServer.Connect();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT pg_terminate_backend(pg_backend_pid())"; // the server ends this very session
            return cmd.ExecuteScalar();
        }));
        Assert.True(attempts > 1);
        Assert.StartsWith("lost the catalog server postgres://test and could not reconnect within 1 s", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.Single(_warnings);
    }

    [PostgresFact]
    public void A_wrong_statement_is_not_retried()
    {
        var retry = new ServerRetry(_warnings.Add, "postgres://test");
        int attempts = 0;
        Assert.Throws<Npgsql.PostgresException>(() => retry.Run(() =>
        {
            attempts++;
            using var conn = PostgresServer.Connect();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT * FROM no_such_table";
            return cmd.ExecuteScalar();
        }));
        Assert.Equal(1, attempts);
        Assert.Empty(_warnings);
    }

    static int BlockedBy(int pid)
    {
        using var conn = PostgresServer.Connect();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM pg_stat_activity WHERE @pid = ANY(pg_blocking_pids(pid))";
        cmd.Parameters.AddWithValue("pid", pid);
        return Convert.ToInt32(cmd.ExecuteScalar());
    }

    static void WaitUntil(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"timed out waiting for {what}");
            Thread.Sleep(20);
        }
    }

    public void Dispose() => _catalog?.Dispose();
}
