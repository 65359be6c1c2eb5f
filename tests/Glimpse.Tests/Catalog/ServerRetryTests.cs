using Glimpse.Catalog.Postgres;
using Npgsql;

namespace Glimpse.Tests.Catalog;

// Issue 14, item 6: waiting for a lost catalog server ends at once when the process is told to stop
// (it used to sleep on for up to 5 minutes).
public class ServerRetryTests
{
    [Fact]
    public void A_stop_ends_the_wait_for_a_lost_server_at_once()
    {
        using var stop = new CancellationTokenSource();
        var retry = new ServerRetry(null, "postgres://test", stop.Token);
        int attempts = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        stop.CancelAfter(TimeSpan.FromSeconds(1));
        var e = Assert.ThrowsAny<OperationCanceledException>(() => retry.Run<int>(() =>
        {
            attempts++;
            throw new NpgsqlException("the connection was lost", new System.Net.Sockets.SocketException(104));
        }));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.True(attempts >= 2, "it should have retried before the stop");
        Assert.Contains("stopped while reconnecting", e.Message);
    }
}
