using System.Net;
using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Serve;

// Issue 14, item 4: serving only the library. Links that lead outside the root are left out at
// scan time (counted) and never served; failed images are 404; an oversize upload is 413 however
// it is sent.
public sealed class ServeSafetyTests : IDisposable
{
    readonly TempDir _dir = new();

    [Fact]
    public void Links_leading_outside_the_library_are_counted_and_left_out_unless_asked_for()
    {
        string root = _dir.Sub("lib"), outside = _dir.Sub("outside");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(root, "inside.jpg"));
        File.Copy(SharedFiles.PreprocessImages().Last(), Path.Combine(outside, "secret.png"));
        TestImages.Write(Path.Combine(outside, "folder"), 3);
        File.CreateSymbolicLink(Path.Combine(root, "escape.png"), Path.Combine(outside, "secret.png"));
        File.CreateSymbolicLink(Path.Combine(root, "passwd.jpg"), "/etc/passwd");
        Directory.CreateSymbolicLink(Path.Combine(root, "linked-folder"), Path.Combine(outside, "folder"));
        File.CreateSymbolicLink(Path.Combine(root, "alias.jpg"), Path.Combine(root, "inside.jpg")); // inside: fine

        var (code, stdout, stderr) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich, "--json"]);
        Assert.True(code == 0, $"{stdout}\n{stderr}");
        var run = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(2, run.GetProperty("done").GetInt32()); // inside.jpg and alias.jpg
        var outsideLinks = run.GetProperty("skipped").EnumerateArray().Single(k => k.GetProperty("kind").GetString() == "link outside the library");
        Assert.Equal(3, outsideLinks.GetProperty("count").GetInt32());

        var (again, json, _) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich, "--json", "--follow-links-outside"]);
        Assert.Equal(3, again); // passwd.jpg is followed now, and is no image
        Assert.Equal(4, JsonDocument.Parse(json).RootElement.GetProperty("done").GetInt32()); // escape.png and the linked folder's 3
    }

    [Fact]
    public async Task A_file_swapped_for_a_link_outside_the_library_and_failed_images_are_404()
    {
        string root = _dir.Sub("lib"), outside = _dir.Sub("outside");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(root, "photo.jpg"));
        File.WriteAllText(Path.Combine(root, "broken.jpg"), "not a jpeg");
        Assert.Equal(3, CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich]).ExitCode);
        // After indexing, the photo becomes a link to a file outside (its real path is what counts).
        File.Copy(SharedFiles.PreprocessImages().Last(), Path.Combine(outside, "secret.png"));
        File.Delete(Path.Combine(root, "photo.jpg"));
        File.CreateSymbolicLink(Path.Combine(root, "photo.jpg"), Path.Combine(outside, "secret.png"));

        using var server = await ServeProcess.StartAsync(root, "--max-upload-mb", "1");
        var hits = JsonDocument.Parse(await server.Client.GetStringAsync("/api/search?q=x")).RootElement.GetProperty("results");
        long photo = hits.EnumerateArray().Single(h => h.GetProperty("path").GetString() == "photo.jpg").GetProperty("id").GetInt64();
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync($"/api/image/{photo}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync($"/api/thumb/{photo}")).StatusCode);

        long broken = IdOfFailed(root);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync($"/api/image/{broken}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync($"/api/thumb/{broken}")).StatusCode);

        // 2 MB against a 1 MB limit, sent chunked (no Content-Length) and as a multipart form.
        var big = new byte[2 << 20];
        var chunked = new StreamContent(new MemoryStream(big));
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/search/image") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await server.Client.SendAsync(request)).StatusCode);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(big), "image", "big.jpg" } };
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await server.Client.PostAsync("/api/search/image", form)).StatusCode);
        var formChunked = new HttpRequestMessage(HttpMethod.Post, "/api/search/image") { Content = new MultipartFormDataContent { { new StreamContent(new MemoryStream(big)), "image", "big.jpg" } } };
        formChunked.Headers.TransferEncodingChunked = true;
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await server.Client.SendAsync(formChunked)).StatusCode);
    }

    /// <summary>The catalog id of the failed image, read with plain SQL (the API never lists failed images).</summary>
    static long IdOfFailed(string root)
    {
        using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(root, ".glimpse", "catalog.db")};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT id FROM images WHERE status = 3";
        return Convert.ToInt64(cmd.ExecuteScalar());
    }

    public void Dispose() => _dir.Dispose();
}
