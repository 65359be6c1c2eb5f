using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Serve;

// Issue 12, item 1: `glimpse serve` over a library indexed with Immich's export of today (both
// encoders with a static batch of 1) answers many text and image queries at once, each exactly as
// it answers them one at a time.
public sealed class ServeStaticModelTests
{
    [Fact]
    public async Task Concurrent_queries_on_a_batch_1_model_get_the_same_answers_as_one_at_a_time()
    {
        using var dir = new TempDir();
        string root = dir.Sub("lib");
        foreach (string image in SharedFiles.PreprocessImages())
            File.Copy(image, Path.Combine(root, Path.GetFileName(image)));
        var (code, _, stderr) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmichStatic]);
        Assert.True(code == 0, stderr);

        using var server = await ServeProcess.StartAsync(root);
        var client = server.Client;

        string[] queries = ["a dog on the beach", "a cat", "snow", "red car at night", "two people", "a bowl of fruit", "mountains", "city lights"];
        async Task<string> Ask(string q) =>
            string.Join(",", JsonDocument.Parse(await client.GetStringAsync($"/api/search?q={Uri.EscapeDataString(q)}&limit=5"))
                .RootElement.GetProperty("results").EnumerateArray().Select(h => $"{h.GetProperty("path").GetString()}:{h.GetProperty("score").GetSingle():0.0000}"));
        var alone = new Dictionary<string, string>();
        foreach (string q in queries)
            alone[q] = await Ask(q);
        Assert.True(alone.Values.Distinct().Count() > 1, "different texts should rank differently");

        // Each query four times, all at once, with image uploads among them.
        byte[] upload = await File.ReadAllBytesAsync(Path.Combine(root, "14.jpg"));
        var texts = queries.SelectMany(q => Enumerable.Repeat(q, 4)).Select(async q => (q, await Ask(q))).ToList();
        var images = Enumerable.Range(0, 6).Select(async _ =>
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(upload), "image", "14.jpg" } };
            var response = await client.PostAsync("/api/search/image?limit=1", form);
            return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("results")[0].GetProperty("path").GetString();
        }).ToList();
        foreach (var (q, answer) in await Task.WhenAll(texts))
            Assert.Equal(alone[q], answer);
        Assert.All(await Task.WhenAll(images), path => Assert.Equal("14.jpg", path));
    }
}
