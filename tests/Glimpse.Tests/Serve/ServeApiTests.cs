using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Serve;

// Issue 7, items 2-4: the real `glimpse serve` on a free loopback port, over a catalog of the fixture images.
public sealed class ServeApiTests : IClassFixture<ServeApiTests.Server>
{
    readonly Server _server;

    public ServeApiTests(Server server) => _server = server;

    /// <summary>One indexed library and one running server (with a token) for all the tests here.</summary>
    public sealed class Server : IDisposable
    {
        readonly TempDir _dir = new();
        readonly CliProcess _process;

        public Server()
        {
            Root = _dir.Sub("lib");
            foreach (string image in SharedFiles.PreprocessImages())
                File.Copy(image, Path.Combine(Root, Path.GetFileName(image)));
            File.WriteAllText(Path.Combine(Root, "broken.jpg"), "not a jpeg");
            var (code, _, stderr) = CliProcess.Run(["index", Root, "--model", SharedFiles.TinyImmich]);
            Assert.True(code == 3, stderr); // broken.jpg failed
            File.Copy(Path.Combine(Root, "05.jpg"), Path.Combine(Root, "vanishing.jpg"));
            CliProcess.Run(["index", Root, "--model", SharedFiles.TinyImmich]);
            File.Delete(Path.Combine(Root, "vanishing.jpg")); // indexed, then gone from disk

            Port = FakeHuggingFace.FreePort();
            _process = CliProcess.Start(["serve", Root, "--port", Port.ToString(), "--token", Token, "--max-upload-mb", "1"]);
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}") };
            Client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if (Client.GetAsync("/api/status").Result.IsSuccessStatusCode)
                        break;
                }
                catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(90) && !_process.HasExited)
                {
                }
                Assert.False(_process.HasExited, _process.Stderr);
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "the server did not start");
                Thread.Sleep(200);
            }
        }

        public const string Token = "s3cret";
        public string Root { get; }
        public int Port { get; }
        public HttpClient Client { get; }

        public long IdOf(string path)
        {
            var hits = JsonDocument.Parse(Client.GetStringAsync("/api/search?q=x&limit=100").Result).RootElement.GetProperty("results");
            return hits.EnumerateArray().First(h => h.GetProperty("path").GetString() == path).GetProperty("id").GetInt64();
        }

        public void Dispose()
        {
            _process.Dispose();
            Client.Dispose();
            _dir.Dispose();
        }
    }

    [Fact]
    public async Task Text_search_pages_through_every_indexed_image()
    {
        var first = JsonDocument.Parse(await _server.Client.GetStringAsync("/api/search?q=a%20dog&limit=10")).RootElement.GetProperty("results");
        var second = JsonDocument.Parse(await _server.Client.GetStringAsync("/api/search?q=a%20dog&limit=10&offset=10")).RootElement.GetProperty("results");
        Assert.Equal(10, first.GetArrayLength());
        Assert.Equal(7, second.GetArrayLength()); // 16 fixtures + the vanished file
        var scores = first.EnumerateArray().Concat(second.EnumerateArray()).Select(h => h.GetProperty("score").GetSingle()).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
    }

    [Fact]
    public async Task An_uploaded_image_finds_itself_first_and_more_like_this_leaves_it_out()
    {
        byte[] image = await File.ReadAllBytesAsync(Path.Combine(_server.Root, "14.jpg"));
        using var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "14.jpg" } };
        var response = await _server.Client.PostAsync("/api/search/image?limit=3", form);
        var hits = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results");
        Assert.Equal("14.jpg", hits[0].GetProperty("path").GetString());

        long id = hits[0].GetProperty("id").GetInt64();
        var similar = JsonDocument.Parse(await _server.Client.GetStringAsync($"/api/similar/{id}?limit=50")).RootElement.GetProperty("results");
        Assert.DoesNotContain(similar.EnumerateArray(), h => h.GetProperty("id").GetInt64() == id);
        Assert.Equal(HttpStatusCode.NotFound, (await _server.Client.GetAsync("/api/similar/999999")).StatusCode);
    }

    [Fact]
    public async Task Images_and_thumbnails_are_served_by_id_with_caching_and_a_placeholder_for_broken_ones()
    {
        long id = _server.IdOf("01.jpg");
        var full = await _server.Client.GetAsync($"/api/image/{id}");
        Assert.Equal("image/jpeg", full.Content.Headers.ContentType!.MediaType);
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(_server.Root, "01.jpg")), await full.Content.ReadAsByteArrayAsync());

        var thumb = await _server.Client.GetAsync($"/api/thumb/{id}");
        Assert.Equal("image/jpeg", thumb.Content.Headers.ContentType!.MediaType);
        Assert.Contains("max-age", thumb.Headers.CacheControl!.ToString());
        using (var bitmap = SkiaSharp.SKBitmap.Decode(await thumb.Content.ReadAsByteArrayAsync()))
            Assert.Equal(256, Math.Max(bitmap.Width, bitmap.Height));
        Assert.True(File.Exists(Path.Combine(_server.Root, ".glimpse", "thumbs", $"{id}-256.jpg")));

        var placeholder = await _server.Client.GetAsync($"/api/thumb/{_server.IdOf("vanishing.jpg")}");
        Assert.Equal(HttpStatusCode.OK, placeholder.StatusCode);
        Assert.Equal("image/svg+xml", placeholder.Content.Headers.ContentType!.MediaType);
    }

    [Theory]
    [InlineData("/api/image/../../../etc/passwd")]
    [InlineData("/api/image/%2Fetc%2Fpasswd")]
    [InlineData("/api/image/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/thumb/..%2Fcatalog.db")]
    [InlineData("/api/image/999999")]
    public async Task Paths_from_the_client_never_reach_a_file(string url)
    {
        var response = await _server.Client.GetAsync(url);
        Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest, $"{url}: {response.StatusCode}");
    }

    [Fact]
    public async Task Requests_without_the_token_are_refused_and_uploads_have_a_size_limit()
    {
        using var anonymous = new HttpClient { BaseAddress = _server.Client.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/api/status?token={ServeApiTests.Server.Token}")).StatusCode);

        var tooBig = new ByteArrayContent(new byte[2 * 1024 * 1024]);
        var response = await _server.Client.PostAsync("/api/search/image", tooBig);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Status_reports_the_catalog()
    {
        var status = JsonDocument.Parse(await _server.Client.GetStringAsync("/api/status")).RootElement;
        Assert.Equal(17, status.GetProperty("done").GetInt64());
        Assert.Equal(1, status.GetProperty("failed").GetInt64());
        Assert.Equal("tiny-immich", status.GetProperty("model").GetString());
        var page = await _server.Client.GetStringAsync("/");
        Assert.Contains("<title>Glimpse</title>", page);
        Assert.DoesNotContain("http://", page.Replace("http://www.w3.org", "")); // no CDN assets
    }

    [Fact]
    public void A_non_loopback_bind_needs_an_explicit_flag()
    {
        var (code, _, stderr) = CliProcess.Run(["serve", _server.Root, "--bind", "0.0.0.0", "--port", "0"]);
        Assert.Equal(2, code);
        Assert.Contains("--allow-remote", stderr);
    }
}
