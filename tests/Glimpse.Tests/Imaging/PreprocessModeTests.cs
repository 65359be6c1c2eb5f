using System.Text.Json.Nodes;
using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Imaging;

// Issue 12, item 5: every preprocessing config a model folder can hold (open_clip's resize modes
// shortest / squash / longest with fill, sizes as a number or [h, w], bicubic / bilinear;
// transformers' CLIP and SigLIP processors) against tensors made the open_clip / transformers way
// by Fixtures/preprocess-modes/make_references.py.
public class PreprocessModeTests
{
    static string Fixtures => Path.Combine(SharedFiles.RepoRoot, "tests", "Glimpse.Tests", "Fixtures", "preprocess-modes");

    static JsonObject Index => (JsonObject)JsonNode.Parse(File.ReadAllText(Path.Combine(Fixtures, "cases.json")))!;

    public static TheoryData<string> Cases => [.. Index["cases"]!.AsObject().Select(kv => kv.Key)];

    public static TheoryData<string> ProbeCases => [.. Index["probe_cases"]!.AsObject().Select(kv => kv.Key)];

    /// <summary>A model folder that holds the case's config as written (the .onnx files are never loaded here).</summary>
    static string FolderWith(TempDir dir, JsonObject testCase, string? visualModel = null)
    {
        string config = testCase["config"]!.ToJsonString();
        if (testCase["layout"]!.GetValue<string>() == "immich")
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, "visual"));
            File.WriteAllText(Path.Combine(dir.Path, "visual", "preprocess_cfg.json"), config);
            if (visualModel is null)
                File.WriteAllBytes(Path.Combine(dir.Path, "visual", "model.onnx"), []);
        }
        else
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, "onnx"));
            File.WriteAllText(Path.Combine(dir.Path, "preprocessor_config.json"), config);
            File.WriteAllBytes(Path.Combine(dir.Path, "onnx", "vision_model.onnx"), []);
        }
        return dir.Path;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_mode_matches_the_reference_tensor(string name)
    {
        using var dir = new TempDir();
        var folder = ModelFolder.Open(FolderWith(dir, Index["cases"]![name]!.AsObject()));
        var pre = new ClipPreprocessor(folder.Preprocess);
        foreach (JsonNode? image in Index["images"]!.AsArray())
        {
            string file = image!.GetValue<string>();
            var reference = NpyFile.Read(Path.Combine(Fixtures, $"{name}.{Path.GetFileNameWithoutExtension(file)}.npy"));
            Assert.Equal([3, folder.Preprocess.Height, folder.Preprocess.Width], reference.Shape.Select(d => (int)d).ToArray());
            var tensor = new float[pre.TensorLength];
            pre.Preprocess(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, file)), tensor);
            var (mean, p99) = Differences.Of(tensor, reference.Data);
            // JPEGs are decoded at a reduced DCT scale (the shared tolerance); the other formats decode
            // exactly, and the resampler is PIL's, so they must match to within a grey level or two.
            bool exact = !file.EndsWith(".jpg");
            Assert.True(mean <= (exact ? 0.002 : 0.02) && p99 <= (exact ? 0.02 : 0.10), $"{name} {file}: mean |diff| {mean:0.0000}, p99 {p99:0.0000}");
        }
    }

    [Theory]
    [MemberData(nameof(ProbeCases))]
    public void End_to_end_through_the_probe_model_each_mode_stores_what_the_reference_feeds(string name)
    {
        using var dir = new TempDir();
        string model = Path.Combine(dir.Path, "model");
        Glimpse.Tests.Models.ModelFolderTests.CopyDirectory(SharedFiles.ProbeImmich, model);
        File.WriteAllText(Path.Combine(model, "visual", "preprocess_cfg.json"), Index["probe_cases"]![name]!["config"]!.ToJsonString());
        string photos = dir.Sub("photos");
        var images = Index["images"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
        foreach (string file in images)
            File.Copy(Path.Combine(SharedFiles.PreprocessFixtures, file), Path.Combine(photos, file));

        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", model, "--offline"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        var rows = CatalogReader.ReadAll(Path.Combine(photos, ".glimpse", "catalog.db"));
        Assert.Equal(images.Count, rows.Count);
        foreach (string file in images)
        {
            float[] expected = NpyFile.Read(Path.Combine(Fixtures, $"{name}.{Path.GetFileNameWithoutExtension(file)}.npy")).Data;
            double cos = Vectors.Cosine(rows[file].Vector!, expected);
            Assert.True(cos >= 0.999, $"{name} {file}: cosine {cos}");
        }
    }

    [Fact]
    public void The_modes_differ_so_the_tests_can_tell_them_apart()
    {
        // A mode read wrongly (longest taken as shortest, SigLIP's squash as a crop) must fail above.
        var longest = NpyFile.Read(Path.Combine(Fixtures, "openclip-longest-96.01.npy")).Data;
        var shortest = NpyFile.Read(Path.Combine(Fixtures, "openclip-shortest-96.01.npy")).Data;
        Assert.True(longest.Zip(shortest, (a, b) => Math.Abs(a - b)).Average() > 0.1);
        var hfCrop = NpyFile.Read(Path.Combine(Fixtures, "hf-clip-shortest-edge-99-crop-96.13.npy")).Data;
        using var dir = new TempDir();
        var testCase = Index["cases"]!["hf-clip-shortest-edge-99-crop-96"]!.AsObject();
        var config = ModelFolder.Open(FolderWith(dir, testCase)).Preprocess;
        Assert.Equal(CropRounding.Floor, config.CropRounding);
        // torchvision's rounding would crop one pixel lower here: visibly off for this image.
        var rounded = new float[config.TensorLength];
        new ClipPreprocessor(config with { CropRounding = CropRounding.HalfToEven }).Preprocess(File.ReadAllBytes(Path.Combine(SharedFiles.PreprocessFixtures, "13.bmp")), rounded);
        Assert.True(rounded.Zip(hfCrop, (a, b) => Math.Abs(a - b)).Average() > 0.002);
    }

    [Theory]
    [InlineData("""{"size": "224", "mean": [0,0,0], "std": [1,1,1]}""", "wrong type")]
    [InlineData("""{"size": [224, 224, 3], "mean": [0,0,0], "std": [1,1,1]}""", "'size' must be a size")]
    [InlineData("""{"size": 224, "mean": [0,0,0], "std": [1,1,1], "resize_mode": "fit"}""", "resize_mode 'fit'")]
    [InlineData("""{"size": 224, "mean": [0,0,0], "std": [1,1,1], "resize_mode": "longest", "fill_color": [0, 128, 255]}""", "fill_color")]
    [InlineData("""{"size": 224, "mean": [0,0,0], "std": [1,1,1], "interpolation": "lanczos"}""", "interpolation 'lanczos'")]
    public void A_config_Glimpse_cannot_follow_is_one_line_that_says_what(string config, string expected)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "visual"));
        File.WriteAllText(Path.Combine(dir.Path, "visual", "preprocess_cfg.json"), config);
        File.WriteAllBytes(Path.Combine(dir.Path, "visual", "model.onnx"), []);
        var e = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(dir.Path));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
