using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 6: the default model is fetched, cached and verified, against a real local HTTP server.
public class ModelDownloaderTests : IDisposable
{
    const string Name = "tiny-test";
    readonly TempDir _dir = new();
    readonly FakeHuggingFace _server = new(SharedFiles.TinyImmich, ModelDownloader.RepositoryOf(Name));

    ModelCache Cache => new(Path.Combine(_dir.Path, "models"));

    ModelDownloader Downloader() => new(Cache, _server.Endpoint, delay: (_, _) => Task.CompletedTask);

    static void AssertSameFiles(string expected, string actual)
    {
        foreach (string file in new[] { "config.json", "visual/model.onnx", "visual/preprocess_cfg.json", "textual/model.onnx", "textual/tokenizer.json" })
            Assert.Equal(File.ReadAllBytes(Path.Combine(expected, file)), File.ReadAllBytes(Path.Combine(actual, file)));
    }

    [Fact]
    public async Task A_full_pull_gives_a_complete_usable_folder_in_the_cache()
    {
        long lastProgress = 0;
        var downloader = Downloader();
        downloader.Progress += (done, _) => lastProgress = done;
        string path = await downloader.PullAsync(Name);

        Assert.Equal(Cache.PathOf(Name), path);
        AssertSameFiles(SharedFiles.TinyImmich, path);
        Assert.True(lastProgress > 10_000_000);
        using var encoder = new ClipImageEncoder(ModelFolder.Open(path), 1);
        Assert.Equal(512, encoder.Dimension);
        Assert.Equal(Name, Assert.Single(Cache.List()).Name);
        Assert.False(Directory.Exists(Path.Combine(Cache.Root, $".{Name}.partial")));
    }

    /// <summary>A repository as Immich keeps a large model: external-data weights, plus other runtimes' files a CPU never needs.</summary>
    static string ExternalDataRepository(TempDir dir)
    {
        string repo = dir.Sub("repo");
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmichExternalData, repo);
        foreach (string extra in new[] { "visual/rknpu/rk3566/model.rknn", "visual/fp16/model.armnn", "textual/model.armnn", "README.md", "textual/rknpu/rk3588/model.rknn" })
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(repo, extra))!);
            File.WriteAllText(Path.Combine(repo, extra), "another runtime's file");
        }
        return repo;
    }

    [Fact]
    public async Task A_pull_lists_the_repository_and_fetches_every_weight_file_and_nothing_for_other_runtimes()
    {
        // Issue 12, item 4.
        using var repoDir = new TempDir();
        string repo = ExternalDataRepository(repoDir);
        using var server = new FakeHuggingFace(repo, ModelDownloader.RepositoryOf("big-model"));
        var downloader = new ModelDownloader(Cache, server.Endpoint, delay: (_, _) => Task.CompletedTask);
        var reports = new List<(long Done, long Total)>();
        downloader.Progress += (done, total) => reports.Add((done, total));

        string path = await downloader.PullAsync("big-model");

        var expected = Directory.EnumerateFiles(SharedFiles.TinyImmichExternalData, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(SharedFiles.TinyImmichExternalData, f)).Order().ToList();
        var actual = Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(path, f)).Order().ToList();
        Assert.Equal(expected, actual); // every external-data file, none of rknpu/, fp16/, *.armnn, README.md
        Assert.True(expected.Count > 25);
        foreach (string file in expected)
            Assert.Equal(File.ReadAllBytes(Path.Combine(SharedFiles.TinyImmichExternalData, file)), File.ReadAllBytes(Path.Combine(path, file)));
        Assert.DoesNotContain(server.Served, f => f.Contains("rknpu") || f.EndsWith(".armnn") || f == "README.md");

        // The total is the whole model's size from the first report on (the listing gives sizes).
        long size = expected.Sum(f => new FileInfo(Path.Combine(path, f)).Length);
        Assert.All(reports, r => Assert.Equal(size, r.Total));
        Assert.Equal((0, size), reports[0]);
        Assert.Equal(size, reports[^1].Done);

        using var encoder = new ClipImageEncoder(ModelFolder.Open(path), 1);
        Assert.Equal(VisualModelSignature.Read(ModelFolder.Open(SharedFiles.TinyImmichExternalData)).Identity.VisualSha256, encoder.Identity.VisualSha256);
    }

    [Fact]
    public async Task A_listed_file_the_server_does_not_serve_leaves_nothing_installed()
    {
        using var repoDir = new TempDir();
        using var server = new FakeHuggingFace(ExternalDataRepository(repoDir), ModelDownloader.RepositoryOf("big-model"));
        server.Unserved.Add("visual/m.proj");
        var downloader = new ModelDownloader(Cache, server.Endpoint, delay: (_, _) => Task.CompletedTask);
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => downloader.PullAsync("big-model"));
        Assert.Contains("visual/m.proj", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(Directory.Exists(Cache.PathOf("big-model")));

        server.Unserved.Clear();
        Assert.True(Directory.Exists(await downloader.PullAsync("big-model"))); // the next pull completes it
    }

    [Fact]
    public async Task A_repository_missing_a_weight_file_its_model_names_is_never_installed()
    {
        using var repoDir = new TempDir();
        string repo = ExternalDataRepository(repoDir);
        File.Delete(Path.Combine(repo, "textual", "m.tok.weight")); // not in the listing either
        using var server = new FakeHuggingFace(repo, ModelDownloader.RepositoryOf("big-model"));
        var downloader = new ModelDownloader(Cache, server.Endpoint, delay: (_, _) => Task.CompletedTask);
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => downloader.PullAsync("big-model"));
        Assert.Contains("incomplete", e.Message);
        Assert.Contains("m.tok.weight", e.Message);
        Assert.False(Directory.Exists(Cache.PathOf("big-model")));
    }

    [Fact]
    public async Task A_corrupted_small_git_file_is_caught_by_its_git_id()
    {
        _server.Corrupt.Add("visual/preprocess_cfg.json");
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => Downloader().PullAsync(Name));
        Assert.Contains("visual/preprocess_cfg.json is corrupt", e.Message);
        Assert.False(Directory.Exists(Cache.PathOf(Name)));
    }

    [Fact]
    public async Task A_download_cut_off_half_way_resumes_with_a_range_request()
    {
        _server.CutOnce.Add("textual/model.onnx");
        string path = await Downloader().PullAsync(Name);

        Assert.Contains(_server.RangeRequests, r => r.StartsWith("textual/model.onnx bytes="));
        AssertSameFiles(SharedFiles.TinyImmich, path);
    }

    [Fact]
    public async Task A_corrupted_byte_is_caught_by_the_checksum_and_nothing_is_installed()
    {
        _server.Corrupt.Add("visual/model.onnx");
        var e = await Assert.ThrowsAsync<ModelDownloadException>(() => Downloader().PullAsync(Name));
        Assert.Contains("visual/model.onnx is corrupt", e.Message);
        Assert.False(Directory.Exists(Cache.PathOf(Name)));

        _server.Corrupt.Clear();
        AssertSameFiles(SharedFiles.TinyImmich, await Downloader().PullAsync(Name)); // the next pull repairs it
    }

    [Fact]
    public async Task Not_found_and_connection_refused_are_one_clear_line_each()
    {
        var missing = await Assert.ThrowsAsync<ModelDownloadException>(() => Downloader().PullAsync("no-such-model"));
        Assert.Contains("404", missing.Message);
        Assert.DoesNotContain('\n', missing.Message);

        var closed = new ModelDownloader(Cache, $"http://127.0.0.1:{FakeHuggingFace.FreePort()}", delay: (_, _) => Task.CompletedTask);
        var refused = await Assert.ThrowsAsync<ModelDownloadException>(() => closed.PullAsync(Name));
        Assert.Contains("cannot reach", refused.Message);
        Assert.Contains("--model DIR", refused.Message);
        Assert.DoesNotContain('\n', refused.Message);
    }

    [Fact]
    public void A_pull_killed_half_way_resumes_and_two_processes_do_not_corrupt_the_cache()
    {
        _server.Throttle = TimeSpan.FromMilliseconds(20);
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = Cache.Root, ["GLIMPSE_HF_ENDPOINT"] = _server.Endpoint };
        using (var first = CliProcess.Start(["models", "pull", Name], env: env))
        {
            string partialOnnx = Path.Combine(Cache.Root, $".{Name}.partial", "textual", "model.onnx");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!(File.Exists(partialOnnx) && new FileInfo(partialOnnx).Length > 1_000_000))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the download did not start");
                Thread.Sleep(20);
            }
            first.Signal(9);
            first.WaitForExit(TimeSpan.FromSeconds(10));
        }

        _server.Throttle = TimeSpan.Zero;
        using var a = CliProcess.Start(["models", "pull", Name], env: env);
        using var b = CliProcess.Start(["models", "pull", Name], env: env);
        Assert.True(a.WaitForExit(TimeSpan.FromMinutes(2)) == 0, a.Stderr);
        Assert.True(b.WaitForExit(TimeSpan.FromMinutes(2)) == 0, b.Stderr);
        Assert.Contains(_server.RangeRequests, r => r.StartsWith("textual/model.onnx bytes="));
        AssertSameFiles(SharedFiles.TinyImmich, Cache.PathOf(Name));
    }

    [Fact]
    public void Offline_mode_refuses_to_download_with_one_line()
    {
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = Cache.Root, ["GLIMPSE_HF_ENDPOINT"] = _server.Endpoint, ["GLIMPSE_OFFLINE"] = "1" };
        using var p = CliProcess.Start(["index", _dir.Sub("lib")], env: env);
        Assert.Equal(1, p.WaitForExit(TimeSpan.FromMinutes(1)));
        Assert.Contains("offline", p.Stderr);
        Assert.Single(p.Stderr.Trim().Split('\n'));
        Assert.Empty(_server.RangeRequests);
    }

    [Fact]
    public void Index_and_search_take_a_cached_model_by_name_and_fetch_it_again_when_removed()
    {
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = Cache.Root, ["GLIMPSE_HF_ENDPOINT"] = _server.Endpoint };
        string root = _dir.Sub("lib");
        TestImages.Write(root, 4);

        var (code, _, stderr) = CliProcess.Run(["index", root, "--model", Name], env: env);
        Assert.True(code == 0, stderr);
        Assert.Contains("downloading it once", stderr);

        var (_, list, _) = CliProcess.Run(["models", "list", "--json"], env: env);
        var entry = System.Text.Json.JsonDocument.Parse(list).RootElement.GetProperty("models")[0];
        Assert.Equal((Name, "Immich", 512), (entry.GetProperty("name").GetString(), entry.GetProperty("layout").GetString(), entry.GetProperty("dimension").GetInt32()));

        Assert.Equal(0, CliProcess.Run(["models", "remove", Name], env: env).ExitCode);
        Assert.False(Directory.Exists(Cache.PathOf(Name)));

        var (searchCode, results, searchErr) = CliProcess.Run(["search", root, "a cat", "--paths"], env: env);
        Assert.True(searchCode == 0, searchErr);
        Assert.Equal(4, results.Trim().Split('\n').Length);
        Assert.True(Directory.Exists(Cache.PathOf(Name)));
    }

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }
}
