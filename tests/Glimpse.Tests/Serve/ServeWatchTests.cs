using Glimpse.Tests.Support;

namespace Glimpse.Tests.Serve;

// Issue 16 item 1: `glimpse serve ROOT --watch` serves and keeps the index current beside it.
public class ServeWatchTests
{
    [Fact]
    public async Task A_photo_added_while_serving_with_watch_is_embedded_and_the_watcher_stops_with_the_server()
    {
        using var dir = new TempDir();
        string lib = dir.Sub("photos");
        TestImages.Write(lib, 3);
        Assert.Equal(0, CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich]).ExitCode);
        string catalog = Path.Combine(lib, ".glimpse", "catalog.db");

        using var serve = await ServeProcess.StartAsync(lib, "--watch");
        TestImages.WriteOne(Path.Combine(lib, "new.jpg"), 200, 150, new Random(5));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!(CatalogReader.ReadAll(catalog).TryGetValue("new.jpg", out var row) && row.Status == 2))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"new.jpg not embedded while serving: {serve.Stderr}");
            await Task.Delay(300);
        }
        Assert.Contains("watching", serve.Stderr);
        Assert.Contains("running since", CliProcess.Run(["status", lib]).Stdout);
        Assert.Equal(200, (int)(await serve.Client.GetAsync("/api/search?q=anything")).StatusCode);
    }
}
