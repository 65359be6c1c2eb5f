using System.Text.Json.Nodes;
using Glimpse.Imaging;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Imaging;

// Issue 13, items 1 and 2: HEIC, AVIF, JPEG XL and camera RAW, made by the formats' reference
// encoders (../shared/fixtures/formats) and written by real phones and cameras
// (../shared/fixtures/real-formats), each within the shared tolerance of its reference tensor.
public class FormatFixtureTests
{
    public static string Formats => Path.Combine(SharedFiles.Root, "fixtures", "formats");
    public static string RealFormats => Path.Combine(SharedFiles.Root, "fixtures", "real-formats");

    /// <summary>Every case of both fixture folders: (folder, file, decode_only).</summary>
    public static IEnumerable<(string Folder, string File, bool DecodeOnly)> AllCases() =>
        new[] { Formats, RealFormats }.SelectMany(folder =>
            ((JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "cases.json")))!)["cases"]!.AsArray()
                .Select(c => (folder, c!["image"]!.GetValue<string>(), c["decode_only"]?.GetValue<bool>() ?? false)));

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (folder, file, decodeOnly) in AllCases())
            if (!decodeOnly)
                data.Add(Path.GetFileName(folder), file);
        return data;
    }

    public static TheoryData<string, string> DecodeOnlyCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (folder, file, decodeOnly) in AllCases())
            if (decodeOnly)
                data.Add(Path.GetFileName(folder), file);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tensor_matches_the_reference_decoders_within_tolerance(string folder, string file)
    {
        string dir = Path.Combine(SharedFiles.Root, "fixtures", folder);
        var pre = new ClipPreprocessor(PreprocessConfig.OpenAiClip());
        var tensor = new float[pre.TensorLength];
        pre.Preprocess(File.ReadAllBytes(Path.Combine(dir, file)), tensor);
        var (reference, _) = NpyFile.Read(Path.Combine(dir, Path.GetFileNameWithoutExtension(file) + ".tensor.npy"));
        var (mean, p99) = Differences.Of(tensor, reference);
        Assert.True(mean <= 0.02 && p99 <= 0.10, $"{file}: mean |diff| {mean:0.0000} (0.02), p99 {p99:0.0000} (0.10)");
    }

    [Theory]
    [MemberData(nameof(DecodeOnlyCases))]
    public void HDR_files_decode_to_8_bits_without_failing(string folder, string file)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(SharedFiles.Root, "fixtures", folder, file));
        RgbImage image = ImageDecoder.Decode(bytes, DecodeOptions.Default);
        Assert.True(image.Width > 0 && image.Height > 0);
        Assert.True(image.Pixels.Take(image.Width * image.Height * 3).Distinct().Count() > 16, "a flat picture");
    }

    [Fact]
    public void End_to_end_every_phone_and_camera_format_is_indexed_and_stores_what_the_reference_feeds()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        var expected = new Dictionary<string, string?>();
        foreach (var (folder, file, decodeOnly) in AllCases())
        {
            File.Copy(Path.Combine(folder, file), Path.Combine(photos, file));
            expected[file] = decodeOnly ? null : Path.Combine(folder, Path.GetFileNameWithoutExtension(file) + ".probe.npy");
        }
        // The bytes decide, not the name: a HEIC saved as .jpg, a CR3 with an upper-case extension.
        File.Copy(Path.Combine(Formats, "01-heic.heic"), Path.Combine(photos, "heic-named.jpg"));
        expected["heic-named.jpg"] = Path.Combine(Formats, "01-heic.probe.npy");
        File.Copy(Path.Combine(RealFormats, "nom-exif_canon-r6.cr3"), Path.Combine(photos, "UPPER.CR3"));
        expected["UPPER.CR3"] = Path.Combine(RealFormats, "nom-exif_canon-r6.probe.npy");

        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.ProbeImmich, "--offline"], TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var rows = CatalogReader.ReadAll(Path.Combine(photos, ".glimpse", "catalog.db"));
        Assert.Equal(expected.Keys.Order(), rows.Keys.Order());
        CatalogReader.AssertCompleteAndDense(rows);
        foreach (var (file, probe) in expected)
        {
            if (probe is null)
                continue; // HDR: embedded (checked above), no single right 8-bit picture to compare with
            double cos = Vectors.Cosine(rows[file].Vector!, NpyFile.Read(probe).Data);
            Assert.True(cos >= 0.999, $"{file}: cosine {cos} with the probe reference");
        }
    }
}
