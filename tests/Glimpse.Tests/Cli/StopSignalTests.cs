using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// Issue 14, item 1: one stop signal for every command. SIGINT and SIGTERM end a real `serve`
// within 2 s, and stop `catalog copy` and `models pull` with one line and 130 / 143, each able
// to carry on when run again.
public class StopSignalTests : IDisposable
{
    const int Sigint = 2, Sigterm = 15;
    readonly TempDir _dir = new();

    [Theory]
    [InlineData(Sigint, 130)]
    [InlineData(Sigterm, 143)]
    public async Task Serve_stops_within_two_seconds_with_the_signals_exit_code(int signal, int expected)
    {
        string root = _dir.Sub("lib");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(root, "a.jpg"));
        Assert.Equal(0, CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich]).ExitCode);

        int port = FakeHuggingFace.FreePort();
        using var server = CliProcess.Start(["serve", root, "--port", port.ToString()]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var ready = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await client.GetAsync("/api/status")).IsSuccessStatusCode)
                    break;
            }
            catch (HttpRequestException) when (ready.Elapsed < TimeSpan.FromSeconds(90))
            {
            }
            Assert.False(server.HasExited, server.Stderr);
            await Task.Delay(100);
        }

        var clock = Stopwatch.StartNew();
        server.Signal(signal);
        int code = server.WaitForExit(TimeSpan.FromSeconds(10));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"serve took {clock.Elapsed.TotalSeconds:0.0} s to stop");
        Assert.Equal(expected, code);
        Assert.Contains("stopped serving", server.Stderr);
        Assert.DoesNotContain("error", server.Stderr);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.GetAsync("/api/status"));
    }

    [Theory]
    [InlineData(Sigint, 130)]
    [InlineData(Sigterm, 143)]
    public void Catalog_copy_stops_with_one_line_and_resumes(int signal, int expected)
    {
        string source = Path.Combine(_dir.Path, "source.db"), target = Path.Combine(_dir.Path, "target.db");
        using (var catalog = new SqliteCatalog(source))
        {
            catalog.BindModel(new ModelIdentity("m", 4, new string('a', 64), "size=224"));
            for (int chunk = 0; chunk < 40; chunk++)
                catalog.Register(Enumerable.Range(0, 10_000).Select(i => new ScannedFile($"d{chunk:D3}/{i:D6}.jpg", 100, 1)).ToList());
        }

        using (var copy = CliProcess.Start(["catalog", "copy", source, target]))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(target) && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(20);
            Thread.Sleep(300);
            Assert.False(copy.HasExited, $"the copy ended before it could be stopped: {copy.Stdout}");
            copy.Signal(signal);
            Assert.Equal(expected, copy.WaitForExit(TimeSpan.FromSeconds(60)));
            Assert.Contains("stopped", copy.Stderr);
            Assert.DoesNotContain("error", copy.Stderr);
            Assert.DoesNotContain("Exception", copy.Stderr);
        }

        var (code, stdout, stderr) = CliProcess.Run(["catalog", "copy", source, target], TimeSpan.FromMinutes(3));
        Assert.True(code == 0, $"{stdout}\n{stderr}");
        Assert.Contains("copied", stdout);
    }

    [Theory]
    [InlineData(Sigint, 130)]
    [InlineData(Sigterm, 143)]
    public void Models_pull_stops_with_one_line_and_resumes(int signal, int expected)
    {
        using var server = new FakeHuggingFace(SharedFiles.TinyImmich, ModelDownloader.RepositoryOf("slow-model")) { Throttle = TimeSpan.FromMilliseconds(20) };
        string models = _dir.Sub("models");
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = models, ["GLIMPSE_HF_ENDPOINT"] = server.Endpoint };
        using (var pull = CliProcess.Start(["models", "pull", "slow-model"], env: env))
        {
            var clock = Stopwatch.StartNew();
            string partial = Path.Combine(models, ".slow-model.partial");
            while (!(Directory.Exists(partial) && Directory.EnumerateFiles(partial, "*", SearchOption.AllDirectories).Any()) && clock.Elapsed < TimeSpan.FromSeconds(60))
                Thread.Sleep(20);
            Thread.Sleep(200);
            pull.Signal(signal);
            Assert.Equal(expected, pull.WaitForExit(TimeSpan.FromSeconds(30)));
            Assert.Contains("stopped", pull.Stderr);
            Assert.DoesNotContain("error", pull.Stderr);
            Assert.DoesNotContain("Exception", pull.Stderr);
        }
        Assert.False(Directory.Exists(Path.Combine(models, "slow-model")));

        server.Throttle = TimeSpan.Zero;
        var (code, _, stderr) = CliProcess.Run(["models", "pull", "slow-model"], env: env);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(models, "slow-model", "textual", "model.onnx")));
    }

    public void Dispose() => _dir.Dispose();
}
