using System.Text.Json;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// Issue 3, items 3 and 9: the real command's preprocess, status and failed outputs.
public class CliCommandTests : IDisposable
{
    readonly TempDir _dir = new();

    [Fact]
    public void Preprocess_writes_the_model_input_as_npy_and_png()
    {
        string image = Path.Combine(SharedFiles.PreprocessFixtures, "02.jpg");
        string npy = _dir.Sub("npy"), png = _dir.Sub("png");
        var (code, stdout, stderr) = CliProcess.Run(["preprocess", image, "--model", SharedFiles.TinyHf, "--npy", npy, "--png", png]);
        Assert.True(code == 0, stderr);
        Assert.Contains("02.jpg", stdout);

        var (tensor, shape) = NpyFile.Read(Path.Combine(npy, "02.npy"));
        Assert.Equal([3L, 224, 224], shape);
        float[] reference = NpyFile.Read(Path.Combine(SharedFiles.PreprocessFixtures, "02.tensor.npy")).Data;
        Assert.True(tensor.Zip(reference, (a, b) => Math.Abs(a - b)).Average() <= 0.02);
        using var picture = SkiaSharp.SKBitmap.Decode(Path.Combine(png, "02.png"));
        Assert.Equal((224, 224), (picture.Width, picture.Height));
    }

    [Fact]
    public void Status_and_failed_report_the_catalog_as_json_and_text()
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, 5);
        File.WriteAllBytes(Path.Combine(root, "empty.jpg"), []);
        var (code, _, _) = CliProcess.Run(["index", root, "--model", SharedFiles.TinyImmich]);
        Assert.Equal(3, code);

        var (statusCode, statusJson, _) = CliProcess.Run(["status", root, "--json"]);
        Assert.Equal(0, statusCode);
        var status = JsonDocument.Parse(statusJson).RootElement;
        Assert.Equal(6, status.GetProperty("total").GetInt64());
        Assert.Equal(5, status.GetProperty("done").GetInt64());
        Assert.Equal(1, status.GetProperty("failed").GetInt64());
        Assert.Equal("tiny-immich", status.GetProperty("model").GetProperty("name").GetString());
        Assert.Equal("empty file (0 bytes)", status.GetProperty("failed_by_reason")[0].GetProperty("reason").GetString());

        var (_, text, _) = CliProcess.Run(["status", root]);
        Assert.Contains("6 total: 5 done, 0 pending, 0 in progress, 1 failed", text);

        var (_, failed, _) = CliProcess.Run(["failed", root]);
        Assert.Equal("empty.jpg\tdecode: empty file (0 bytes)", failed.Trim());
    }

    [Fact]
    public void Status_without_a_catalog_says_so_and_fails()
    {
        var (code, stdout, stderr) = CliProcess.Run(["status", _dir.Path]);
        Assert.Equal(1, code);
        Assert.Empty(stdout);
        Assert.Contains("no catalog at", stderr);
    }

    [Fact]
    public void A_wrong_model_folder_is_one_clear_line()
    {
        string root = _dir.Sub("lib");
        var (code, _, stderr) = CliProcess.Run(["index", root, "--model", _dir.Sub("not-a-model")]);
        Assert.Equal(1, code);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains("is not a CLIP model folder", stderr);
    }

    public void Dispose() => _dir.Dispose();
}
