using System.Text.Json;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Search;

// Issue 5, items 1 and 2: text encoders of both layouts, and the real search commands.
public class SearchCommandTests : IDisposable
{
    readonly TempDir _dir = new();

    [Fact]
    public void Both_layouts_text_encoders_agree_on_the_same_weights()
    {
        // tiny-immich feeds int32 ids; tiny-hf feeds int64 ids and an attention mask. Same weights: same vectors.
        using var immich = new ClipTextEncoder(ModelFolder.Open(SharedFiles.TinyImmich));
        using var hf = new ClipTextEncoder(ModelFolder.Open(SharedFiles.TinyHf));
        float[] a = immich.Encode(["a dog on the beach", "a cat"]);
        float[] b = hf.Encode(["a dog on the beach", "a cat"]);
        Assert.Equal(1024, a.Length);
        Assert.True(Vectors.Cosine(a[..512], b[..512]) > 0.9999);
        Assert.True(Vectors.Cosine(a[512..], b[512..]) > 0.9999);
        Assert.True(Vectors.Cosine(a[..512], a[512..]) < 0.999); // different texts differ
    }

    [Fact]
    public void Search_and_serve_refuse_a_model_that_is_not_the_catalogs_in_one_line()
    {
        // Issue 12, item 6. tiny-hf has tiny-immich's weights in other files, and 512-d vectors too:
        // before, its text encoder ranked the stored vectors without a word.
        string root = _dir.Sub("lib");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(root, "a.jpg"));
        Assert.Equal(0, CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich]).ExitCode);

        var (code, stdout, stderr) = CliProcess.Run(["search", root, "a dog", "--model", SharedFiles.TinyHf]);
        Assert.Equal(1, code);
        Assert.Equal("", stdout);
        Assert.Contains("is not the one", stderr);
        Assert.Contains("tiny-immich", stderr);
        Assert.Single(stderr.Trim().Split('\n'));

        var (serveCode, _, serveErr) = CliProcess.Run(["serve", root, "--model", SharedFiles.TinyHf, "--port", FakeHuggingFace.FreePort().ToString()], TimeSpan.FromSeconds(60));
        Assert.Equal(1, serveCode);
        Assert.Contains("is not the one", serveErr);

        // The catalog's own model, in today's export style (same weights, other graph): refused too,
        // since its file differs; the catalog's folder itself is accepted.
        Assert.Equal(1, CliProcess.Run(["search", root, "a dog", "--model", SharedFiles.TinyImmichStatic]).ExitCode);
        var (okCode, found, okErr) = CliProcess.Run(["search", root, "a dog", "--model", SharedFiles.TinyImmich]);
        Assert.True(okCode == 0, okErr);
        Assert.Contains("a.jpg", found);
    }

    [Fact]
    public void Search_by_image_finds_that_image_first_and_similar_leaves_it_out()
    {
        string root = _dir.Sub("lib");
        foreach (string image in SharedFiles.PreprocessImages())
            File.Copy(image, Path.Combine(root, Path.GetFileName(image)));
        var (code, _, stderr) = CliProcess.Run(["index", root, "--model", SharedFiles.ProbeImmich]);
        Assert.True(code == 0, stderr);

        var (searchCode, json, _) = CliProcess.Run(["search", root, "--image", Path.Combine(root, "09.png"), "--json", "--limit", "3"]);
        Assert.Equal(0, searchCode);
        var results = JsonDocument.Parse(json).RootElement.GetProperty("results");
        Assert.Equal("09.png", results[0].GetProperty("path").GetString());
        Assert.True(results[0].GetProperty("score").GetDouble() > 0.999);
        Assert.Equal(3, results.GetArrayLength());

        var (_, paths, _) = CliProcess.Run(["similar", root, Path.Combine(root, "09.png"), "--paths", "-n", "15"]);
        var lines = paths.Trim().Split('\n');
        Assert.Equal(15, lines.Length);
        Assert.DoesNotContain("09.png", lines);
        // Through the ANN index (the default above a million images): the same neighbours here.
        var (annCode, annPaths, annErr) = CliProcess.Run(["similar", root, Path.Combine(root, "09.png"), "--ann", "--paths", "-n", "5"]);
        Assert.True(annCode == 0, annErr);
        Assert.Equal(lines[..5], annPaths.Trim().Split('\n'));
        var (missingCode, _, missingErr) = CliProcess.Run(["similar", root, Path.Combine(root, "not-there.png")]);
        Assert.Equal(2, missingCode);
        Assert.Contains("not-there.png is not an indexed image", missingErr);

        var (textCode, text, _) = CliProcess.Run(["search", root, "a photo of a cat", "--limit", "2"]);
        Assert.Equal(0, textCode);
        Assert.Matches(@"^-?\d\.\d{4}  \S+\n-?\d\.\d{4}  \S+\n$", text.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_search_during_indexing_sees_every_committed_batch()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 300);
        string catalog = Path.Combine(_dir.Path, "c.db");
        using var indexer = CliProcess.Start(["index", root, "--model", SharedFiles.TinyImmich, "--catalog", catalog, "--batch-size", "8", "--threads", "1"]);
        int seen = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (seen == 0 && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(100);
            if (!File.Exists(catalog))
                continue;
            try
            {
                using var store = new SqliteCatalog(catalog);
                if (store.Model is null)
                    continue;
                VectorSet set = VectorSet.Load(store);
                seen = set.Count;
                if (seen > 0)
                    Assert.Equal(set.Count, ExactSearch.Search(set, set.Row(0), limit: 1000).Count);
            }
            catch (Microsoft.Data.Sqlite.SqliteException)
            {
                // the schema may not exist yet
            }
        }
        Assert.InRange(seen, 1, 299); // some batches, before the run ended
        Assert.Equal(0, indexer.WaitForExit(TimeSpan.FromMinutes(2)));
    }

    [Fact]
    public void Tokenize_prints_the_ids_as_json()
    {
        var (code, stdout, _) = CliProcess.Run(["tokenize", "--model", SharedFiles.TinyImmich, "A photo of a dog.", "--json"]);
        Assert.Equal(0, code);
        Assert.Equal([49406, 320, 1125, 539, 320, 1929, 269, 49407], JsonSerializer.Deserialize<int[]>(stdout)!);
    }

    public void Dispose() => _dir.Dispose();
}
