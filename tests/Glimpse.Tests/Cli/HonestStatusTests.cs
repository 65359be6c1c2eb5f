using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// Issue 14, item 5: after a crash, status shows the dead run's claims as abandoned (the next run
// takes them), not as in progress, and no rate or ETA while no run is working.
public class HonestStatusTests
{
    [Fact]
    public void A_killed_runs_claims_show_as_abandoned_with_no_eta()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        TestImages.Write(photos, 400);
        string catalog = Path.Combine(photos, ".glimpse", "catalog.db");
        using (var run = CliProcess.Start(["index", photos, "--model", SharedFiles.TinyImmich, "--batch-size", "8", "--workers", "1"]))
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                var (code, stdout, _) = CliProcess.Run(["status", photos, "--json"]);
                if (code != 0)
                {
                    Thread.Sleep(100); // no catalog yet
                    continue;
                }
                var json = JsonDocument.Parse(stdout).RootElement;
                if (json.GetProperty("done").GetInt32() >= 16 && json.GetProperty("in_progress").GetInt32() > 0)
                {
                    Assert.True(json.GetProperty("running").GetBoolean());
                    break;
                }
                Thread.Sleep(100);
            }
            run.Signal(9);
            run.WaitForExit(TimeSpan.FromSeconds(10));
        }

        var status = JsonDocument.Parse(CliProcess.Run(["status", photos, "--json"]).Stdout).RootElement;
        Assert.Equal(0, status.GetProperty("in_progress").GetInt32());
        Assert.True(status.GetProperty("abandoned").GetInt32() > 0);
        Assert.False(status.GetProperty("running").GetBoolean());
        Assert.Equal(JsonValueKind.Null, status.GetProperty("eta_seconds").ValueKind);
        Assert.Equal(0, status.GetProperty("images_per_second").GetDouble());
        string text = CliProcess.Run(["status", photos]).Stdout;
        Assert.Contains("abandoned by a stopped run", text);
        Assert.Contains("no index run is working", text);
        Assert.DoesNotContain("ETA", text);

        Assert.Equal(0, CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmich]).ExitCode);
        var after = JsonDocument.Parse(CliProcess.Run(["status", photos, "--json"]).Stdout).RootElement;
        Assert.Equal(400, after.GetProperty("done").GetInt32());
        Assert.Equal(0, after.GetProperty("abandoned").GetInt32());
    }
}
