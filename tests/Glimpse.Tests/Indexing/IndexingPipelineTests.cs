using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Indexing;

// Issue 3, items 3, 5 and 8: end to end through the real pipeline, decoders, ONNX and SQLite.
public class IndexingPipelineTests : IDisposable
{
    readonly TempDir _dir = new();

    static IndexRunSummary Index(string root, string model, IndexingOptions? options = null, List<string>? warnings = null)
    {
        using var encoder = new ClipImageEncoder(ModelFolder.Open(model), intraOpThreads: 2);
        using var catalog = new SqliteCatalog(Path.Combine(root, ".glimpse", "catalog.db"));
        var pipeline = new IndexingPipeline(catalog, encoder, options ?? new IndexingOptions { BatchSize = 8 }, w => warnings?.Add(w));
        return pipeline.RunAsync(root, Path.Combine(root, ".glimpse"), CancellationToken.None).GetAwaiter().GetResult();
    }

    static string CatalogOf(string root) => Path.Combine(root, ".glimpse", "catalog.db");

    [Fact]
    public void Probe_vectors_in_the_catalog_match_the_reference_end_to_end()
    {
        string root = _dir.Sub("lib");
        foreach (string image in SharedFiles.PreprocessImages())
            File.Copy(image, Path.Combine(root, Path.GetFileName(image)));

        var summary = Index(root, SharedFiles.ProbeImmich);

        Assert.Equal(16, summary.Done);
        var rows = CatalogReader.ReadAll(CatalogOf(root));
        CatalogReader.AssertCompleteAndDense(rows);
        foreach (var row in rows.Values)
        {
            float[] expected = NpyFile.Read(Path.Combine(SharedFiles.PreprocessFixtures, Path.ChangeExtension(row.Path, null) + ".probe.npy")).Data;
            double cos = Vectors.Cosine(row.Vector!, expected);
            Assert.True(cos >= 0.999, $"{row.Path}: cosine {cos}");
        }
    }

    [Fact]
    public void Malformed_files_end_as_expected_and_every_valid_image_is_indexed()
    {
        string root = _dir.Sub("lib");
        foreach (string file in Directory.EnumerateFiles(SharedFiles.MalformedFixtures))
            if (Path.GetFileName(file) is not ("README.md" or "expected.tsv"))
                File.Copy(file, Path.Combine(root, Path.GetFileName(file)));
        foreach (string image in SharedFiles.PreprocessImages())
            File.Copy(image, Path.Combine(root, "valid-" + Path.GetFileName(image)));

        var summary = Index(root, SharedFiles.TinyImmich, new IndexingOptions { BatchSize = 8, Lease = TimeSpan.FromSeconds(30) });

        var rows = CatalogReader.ReadAll(CatalogOf(root));
        Assert.Equal(0, summary.Left);
        var expectations = File.ReadAllLines(Path.Combine(SharedFiles.MalformedFixtures, "expected.tsv")).Skip(1)
            .Select(l => l.Split('\t')).ToDictionary(f => f[0], f => f[1]);
        foreach (var (file, expected) in expectations)
        {
            rows.TryGetValue(file, out var row);
            switch (expected.Split(' ')[0])
            {
                case "skipped":
                    Assert.Null(row);
                    break;
                case "decode":
                    Assert.True(row is { Status: 2 }, $"{file} should be indexed; got {row?.Status} {row?.FailReason}");
                    break;
                case "fail":
                    Assert.True(row is { Status: 3 }, $"{file} should fail; got {row?.Status}");
                    Assert.False(string.IsNullOrWhiteSpace(row!.FailReason));
                    Assert.DoesNotContain('\n', row.FailReason);
                    break;
                default: // either: indexed, or failed with a reason
                    Assert.True(row is { Status: 2 } or { Status: 3, FailReason.Length: > 0 }, $"{file}: {row?.Status}");
                    break;
            }
        }
        Assert.All(rows.Where(r => r.Key.StartsWith("valid-")), r => Assert.Equal(2, r.Value.Status));
        // Reasons are for people: a decoder's internal crash is reported as a damaged file, not as a .NET exception name.
        Assert.All(rows.Values.Where(r => r.Status == 3), r => Assert.DoesNotContain("NullReferenceException", r.FailReason));
    }

    [Fact]
    public void Each_kind_of_bad_input_is_recorded_with_its_stage_and_the_run_goes_on()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 6);
        File.WriteAllBytes(Path.Combine(root, "zero.jpg"), []);
        byte[] jpeg = File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "01.jpg"));
        File.WriteAllBytes(Path.Combine(root, "truncated.jpg"), jpeg[..600]);
        var corrupt = (byte[])jpeg.Clone();
        new Random(7).NextBytes(corrupt.AsSpan(20, 4000));
        File.WriteAllBytes(Path.Combine(root, "corrupt.jpg"), corrupt);
        File.WriteAllText(Path.Combine(root, "notes.png"), "this is text, not a picture");
        File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "00.jpg"), Path.Combine(root, "huge.jpg")); // 14.7 MP

        var summary = Index(root, SharedFiles.TinyImmich, new IndexingOptions
        {
            BatchSize = 4,
            Decode = DecodeOptions.Default with { MaxMegapixels = 10 },
        });

        var rows = CatalogReader.ReadAll(CatalogOf(root));
        Assert.Equal(6, rows.Values.Count(r => r.Status == 2));
        Assert.Equal(5, summary.Failed);
        Assert.Equal(("decode", "empty file (0 bytes)"), (rows["zero.jpg"].FailStage, rows["zero.jpg"].FailReason));
        Assert.Equal("decode", rows["truncated.jpg"].FailStage);
        Assert.Equal("decode", rows["corrupt.jpg"].FailStage);
        Assert.Contains("not a recognised image", rows["notes.png"].FailReason);
        Assert.Contains("over the 10 MP limit", rows["huge.jpg"].FailReason);
    }

    [Fact]
    public void A_file_that_vanishes_between_claim_and_read_fails_at_the_read_stage()
    {
        string root = _dir.Sub("lib");
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        using var catalog = new SqliteCatalog(CatalogOf(root));
        var pipeline = new IndexingPipeline(catalog, encoder, new IndexingOptions());

        var prepared = pipeline.Prepare(root, new ClaimedImage(7, "gone.jpg", 1234, 1));

        Assert.Equal(new FailedImage(7, "read", "file vanished before it was read"), prepared.Failure);
    }

    [Fact]
    public void Failed_images_are_retried_only_when_asked_or_when_the_file_changes()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 3);
        string bad = Path.Combine(root, "bad.jpg");
        File.WriteAllText(bad, "not a jpeg");

        Assert.Equal(1, Index(root, SharedFiles.TinyImmich).Failed);
        Assert.Equal(new IndexRunSummary(0, 0, 0, false), Index(root, SharedFiles.TinyImmich));
        Assert.Equal(1, Index(root, SharedFiles.TinyImmich, new IndexingOptions { RetryFailed = true }).Failed);

        File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "05.jpg"), bad, overwrite: true);
        File.SetLastWriteTimeUtc(bad, DateTime.UtcNow.AddMinutes(1));
        var fixedRun = Index(root, SharedFiles.TinyImmich);
        Assert.Equal((1, 0), (fixedRun.Done, fixedRun.Failed));
        CatalogReader.AssertCompleteAndDense(CatalogReader.ReadAll(CatalogOf(root)));
    }

    [Fact]
    public void Hidden_files_the_catalog_folder_other_extensions_and_link_loops_are_skipped()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 4);
        File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "05.jpg"), Path.Combine(root, ".hidden.jpg"));
        Directory.CreateDirectory(Path.Combine(root, ".thumbs"));
        File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "05.jpg"), Path.Combine(root, ".thumbs", "t.jpg"));
        File.WriteAllText(Path.Combine(root, "readme.txt"), "hello");
        Directory.CreateSymbolicLink(Path.Combine(root, "album0", "loop"), root);

        var summary = Index(root, SharedFiles.TinyImmich);
        var rows = CatalogReader.ReadAll(CatalogOf(root));
        Assert.Equal(4, summary.Done);
        Assert.Equal(4, rows.Count);
        Assert.DoesNotContain(rows.Keys, k => k.Contains("loop") || k.StartsWith('.'));
    }

    [Fact]
    public void An_unreadable_folder_is_reported_and_skipped()
    {
        if (Posix.GetEuid() == 0)
        {
            // Root reads everything: run the real command as 'nobody' instead.
            string root = _dir.Sub("lib");
            TestImages.Write(root, 4);
            string locked = Path.Combine(root, "locked");
            Directory.CreateDirectory(locked);
            File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "05.jpg"), Path.Combine(locked, "x.jpg"));
            string unreadableFile = Path.Combine(root, "secret.jpg");
            File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, "05.jpg"), unreadableFile);
            foreach (string d in Directory.EnumerateDirectories(_dir.Path, "*", SearchOption.AllDirectories).Append(_dir.Path))
                File.SetUnixFileMode(d, (UnixFileMode)0b111_111_111);
            foreach (string f in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
                File.SetUnixFileMode(f, (UnixFileMode)0b110_110_110);
            File.SetUnixFileMode(locked, UnixFileMode.None);
            File.SetUnixFileMode(unreadableFile, UnixFileMode.None);

            var (code, _, stderr) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich, "--lease", "30"], asUser: 65534);
            Assert.Contains("skipping folder locked", stderr);
            Assert.Equal(3, code); // some failed: secret.jpg
            var rows = CatalogReader.ReadAll(CatalogOf(root));
            Assert.Equal(("read", "permission denied"), (rows["secret.jpg"].FailStage, rows["secret.jpg"].FailReason));
            Assert.Equal(4, rows.Values.Count(r => r.Status == 2));
            File.SetUnixFileMode(locked, (UnixFileMode)0b111_111_111);
        }
        else
        {
            string root = _dir.Sub("lib");
            TestImages.Write(root, 2);
            string locked = _dir.Sub("lib/locked");
            File.SetUnixFileMode(locked, UnixFileMode.None);
            var warnings = new List<string>();
            Assert.Equal(2, Index(root, SharedFiles.TinyImmich, warnings: warnings).Done);
            Assert.Contains(warnings, w => w.Contains("skipping folder locked"));
            File.SetUnixFileMode(locked, (UnixFileMode)0b111_111_111);
        }
    }

    [Fact]
    public async Task Leases_in_this_workers_name_that_nothing_in_the_run_holds_are_released_and_indexed()
    {
        // A claim whose reply was lost with the connection leaves rows leased in this worker's name
        // that never reached it; the heartbeat renews them, so without a release the run waits forever.
        string root = _dir.Sub("lib");
        TestImages.Write(root, 12);
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), intraOpThreads: 2);
        using var catalog = new SqliteCatalog(CatalogOf(root));
        catalog.BeginScan();
        catalog.Register(new FileScanner(root, Path.Combine(root, ".glimpse"), _ => { }).Scan(CancellationToken.None).ToList());
        catalog.CompleteScan([], allowMassDelete: false);
        Assert.Equal(5, catalog.Claim(WorkerIdentity.Current, 5, TimeSpan.FromHours(1)).Count);

        var warnings = new List<string>();
        var pipeline = new IndexingPipeline(catalog, encoder, new IndexingOptions { BatchSize = 4 }, warnings.Add);
        using var giveUp = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var summary = await pipeline.RunAsync(root, Path.Combine(root, ".glimpse"), giveUp.Token);

        Assert.False(summary.Stopped, "the run waited for leases in its own name that it never held");
        Assert.Equal((12L, 0L), (summary.Done, summary.Left));
        Assert.Contains(warnings, w => w.StartsWith("5 images leased in this worker's name were not in hand"));
        CatalogReader.AssertCompleteAndDense(CatalogReader.ReadAll(CatalogOf(root)));
    }

    public void Dispose() => _dir.Dispose();
}
