using System.Diagnostics;
using Npgsql;

namespace Glimpse.Catalog.Postgres;

/// <summary>
/// Runs a unit of catalog work again, on a fresh connection, when the connection to the server was
/// lost: the server restarted, a network blip, or the server ended a session this machine left
/// idle in a transaction (a suspended laptop, a frozen VM). An index run lasts days; a catalog
/// server that is away for a minute must not end it.
/// </summary>
/// <remarks>
/// Only whole units are retried: each opens its own transaction, so a lost one was rolled back and
/// running it again is safe. Commits are fenced on the lease owner, so even a commit whose outcome
/// was lost (the connection dropped during COMMIT) changes nothing the second time.
/// </remarks>
/// <param name="stop">A stop (Ctrl-C) ends the waiting at once: the run stops instead of sleeping on a server that is away.</param>
internal sealed class ServerRetry(Action<string>? warn, string location, CancellationToken stop = default)
{
    /// <summary>How long to keep trying before giving up with one clear error.</summary>
    public TimeSpan Window { get; init; } = TimeSpan.FromMinutes(5);

    static readonly TimeSpan FirstPause = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(15);

    /// <summary>Calls now retrying; the first to start says the connection was lost, the last to succeed says it is back.</summary>
    int _retrying;

    public T Run<T>(Func<T> work)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan pause = FirstPause;
        bool retrying = false;
        try
        {
            while (true)
            {
                try
                {
                    T result = work();
                    if (retrying && Interlocked.Decrement(ref _retrying) == 0)
                        warn?.Invoke($"reconnected to the catalog after {clock.Elapsed.TotalSeconds:0.0} s");
                    retrying = false;
                    return result;
                }
                catch (Exception e) when (IsConnectionLost(e))
                {
                    if (clock.Elapsed + pause > Window)
                        throw new CatalogException(
                            $"lost the catalog server {location} and could not reconnect within {Window.TotalSeconds:0} s: {e.Message.ReplaceLineEndings(" ")}", e);
                    if (!retrying)
                    {
                        retrying = true;
                        if (Interlocked.Increment(ref _retrying) == 1) // several threads notice one outage: say it once
                            warn?.Invoke($"lost the connection to the catalog ({e.Message.ReplaceLineEndings(" ")}); reconnecting");
                    }
                    if (stop.WaitHandle.WaitOne(pause))
                        throw new OperationCanceledException($"stopped while reconnecting to the catalog {location}", e, stop);
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
                }
            }
        }
        finally
        {
            if (retrying)
                Interlocked.Decrement(ref _retrying); // gave up (or failed otherwise) while retrying
        }
    }

    public void Run(Action work) => Run(() =>
    {
        work();
        return 0;
    });

    /// <summary>
    /// True when the failure says the session is gone or the server is briefly unable to serve,
    /// not that the statement was wrong: a retry on a new connection can succeed.
    /// </summary>
    /// <summary>The server ended a session left idle inside a transaction (Npgsql names no constant for it).</summary>
    const string IdleInTransactionSessionTimeout = "25P03";

    public static bool IsConnectionLost(Exception e) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is
            IdleInTransactionSessionTimeout or PostgresErrorCodes.IdleSessionTimeout
            or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };
}
