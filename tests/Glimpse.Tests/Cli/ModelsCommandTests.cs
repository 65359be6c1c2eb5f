using System.Text.Json;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Cli;

// `glimpse models quantize` and `glimpse models compare`, run as a user runs them.
public class ModelsCommandTests
{
    [Fact]
    public void Quantize_writes_a_named_copy_into_the_cache_and_compare_says_what_it_costs_on_a_folder_of_photos()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = dir.Sub("models") };

        var (code, stdout, stderr) = CliProcess.Run(["models", "quantize", SharedFiles.TinyImmich], env: env);
        Assert.True(code == 0, stderr);
        string copy = Path.Combine(dir.Path, "models", "tiny-immich-int8");
        Assert.Contains(copy, stdout);
        Assert.Matches(@"visual: 9 MatMul \+ 0 Gemm quantised", stdout);
        Assert.Contains("glimpse models compare", stderr);

        var again = CliProcess.Run(["models", "quantize", SharedFiles.TinyImmich], env: env);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);

        var list = CliProcess.Run(["models", "list"], env: env);
        Assert.Contains("tiny-immich-int8", list.Stdout);

        var compare = CliProcess.Run(["models", "compare", SharedFiles.TinyImmich, "tiny-immich-int8", SharedFiles.PreprocessFixtures, "--sample", "12", "--json"], env: env);
        Assert.True(compare.ExitCode == 0, compare.Stderr);
        using var json = JsonDocument.Parse(compare.Stdout);
        var r = json.RootElement.GetProperty("result");
        Assert.Equal(12, r.GetProperty("compared").GetInt32());
        Assert.Equal(16, r.GetProperty("found").GetInt32());
        double mean = r.GetProperty("mean_cosine").GetDouble(), min = r.GetProperty("min_cosine").GetDouble();
        Assert.InRange(mean, 0.99, 0.999999);
        Assert.InRange(min, 0.98, mean);
        Assert.Equal(10, r.GetProperty("k").GetInt32());
        Assert.InRange(r.GetProperty("mean_neighbour_overlap").GetDouble(), 0.5, 1.0);

        var text = CliProcess.Run(["models", "compare", SharedFiles.TinyImmich, "tiny-immich-int8", SharedFiles.PreprocessFixtures, "--sample", "12"], env: env);
        Assert.Matches(@"cosine A-B per image: mean [01]\.\d{4}, min [01]\.\d{4} \(\S+\)", text.Stdout);
        Assert.Contains("top-10 neighbours shared: mean", text.Stdout);
    }

    [Fact]
    public void Compare_refuses_a_root_that_is_not_a_folder_and_a_folder_without_images()
    {
        using var dir = new TempDir();
        var missing = CliProcess.Run(["models", "compare", SharedFiles.TinyImmich, SharedFiles.TinyHf, Path.Combine(dir.Path, "nope")]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("is not a folder", missing.Stderr);

        File.WriteAllText(Path.Combine(dir.Sub("empty"), "notes.txt"), "no photos");
        var empty = CliProcess.Run(["models", "compare", SharedFiles.TinyImmich, SharedFiles.TinyHf, Path.Combine(dir.Path, "empty")]);
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("no image", empty.Stderr);
    }

    [Fact]
    public void Index_measures_the_layout_on_a_models_first_use_and_takes_it_from_the_cache_after_calibrate_or_a_first_run()
    {
        using var dir = new TempDir();
        var env = new Dictionary<string, string> { ["GLIMPSE_MODELS"] = dir.Sub("models") };
        string lib = dir.Sub("photos");
        foreach (string image in SharedFiles.PreprocessImages().Take(5))
            File.Copy(image, Path.Combine(lib, Path.GetFileName(image)));

        var first = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich], env: env);
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("measuring the inference layout of tiny-immich", first.Stderr);
        Assert.Matches(@"inference on cpu: \d+ calls? at once x \d+ threads? x \d+ images? per run \(measured now", first.Stderr);
        Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "layouts"), "*.json"));

        var second = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich], env: env);
        Assert.DoesNotContain("measuring", second.Stderr);
        Assert.Contains("measured before on this machine", second.Stderr);

        var fixedByUser = CliProcess.Run(["index", lib, "--model", SharedFiles.TinyImmich, "--threads", "1", "--encoders", "2"], env: env);
        Assert.DoesNotContain("inference on", fixedByUser.Stderr);

        var calibrate = CliProcess.Run(["models", "calibrate", SharedFiles.TinyImmichStatic, "--seconds", "0.1"], env: env);
        Assert.True(calibrate.ExitCode == 0, calibrate.Stderr);
        Assert.Contains("<- used", calibrate.Stdout);
        Assert.Contains("1 image per run", calibrate.Stdout);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "layouts"), "*.json").Length);
    }
}
