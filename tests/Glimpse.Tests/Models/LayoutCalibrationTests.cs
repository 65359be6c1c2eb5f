using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 15 item 1: the inference layout is measured on a model's first use on a machine,
// remembered, and used; cutting a batch into runs changes no vector.
public class LayoutCalibrationTests
{
    [Fact]
    public void The_candidates_span_one_call_over_every_core_to_one_call_per_core_and_keep_a_batch_of_32_busy()
    {
        Assert.Equal(
            [new(2, 1, 1), new(2, 1, 8), new(1, 2, 8), new(1, 2, 32)],
            LayoutCalibration.Candidates(fixedBatch: null, cores: 2));
        Assert.Equal([new(2, 1, 1), new(1, 2, 1)], LayoutCalibration.Candidates(fixedBatch: 1, cores: 2));
        var eight = LayoutCalibration.Candidates(null, 8);
        Assert.Contains(new InferenceLayout(1, 8, 32), eight);
        Assert.Contains(new InferenceLayout(2, 4, 8), eight);
        Assert.Contains(new InferenceLayout(8, 1, 1), eight);
        Assert.All(eight, l => Assert.True(l.Calls * l.RunSize <= 32, $"{l}"));
        Assert.Equal([new InferenceLayout(1, 1, 1), new(1, 1, 8), new(1, 1, 32)], LayoutCalibration.Candidates(null, 1));
    }

    [Fact]
    public void A_model_is_measured_once_per_machine_then_its_layout_comes_from_the_cache()
    {
        using var dir = new TempDir();
        var folder = ModelFolder.Open(SharedFiles.TinyImmich);
        var lines = new List<string>();
        var first = LayoutCalibration.Calibrate(folder, perTrial: TimeSpan.FromMilliseconds(100), cacheDir: dir.Path, log: lines.Add);
        Assert.False(first.FromCache);
        Assert.Equal(LayoutCalibration.Candidates(null, Environment.ProcessorCount).Count, first.Trials.Count);
        Assert.Equal(first.Trials.MaxBy(t => t.ImagesPerSecond)!.Layout, first.Best);
        Assert.All(first.Trials, t => Assert.True(t.ImagesPerSecond > 0 && t.CpuMsPerImage > 0, $"{t}"));
        Assert.True(File.Exists(first.CachePath));
        Assert.NotEmpty(lines);

        lines.Clear();
        var second = LayoutCalibration.Calibrate(folder, perTrial: TimeSpan.FromMilliseconds(100), cacheDir: dir.Path, log: lines.Add);
        Assert.True(second.FromCache);
        Assert.Equal(first.Best, second.Best);
        Assert.Empty(lines);

        // Another model (other weights) is measured for itself; so is this one when asked again.
        var other = LayoutCalibration.Calibrate(ModelFolder.Open(SharedFiles.TinyImmichStatic), perTrial: TimeSpan.FromMilliseconds(100), cacheDir: dir.Path);
        Assert.False(other.FromCache);
        Assert.NotEqual(first.CachePath, other.CachePath);
        Assert.All(other.Trials, t => Assert.Equal(1, t.Layout.RunSize)); // a batch-1 export runs one image per call
        Assert.False(LayoutCalibration.Calibrate(folder, remeasure: true, perTrial: TimeSpan.FromMilliseconds(100), cacheDir: dir.Path).FromCache);

        File.WriteAllText(first.CachePath!, "{ not json");
        Assert.False(LayoutCalibration.Calibrate(folder, perTrial: TimeSpan.FromMilliseconds(100), cacheDir: dir.Path).FromCache);
    }

    [Theory]
    [InlineData(2, 1, 8)]
    [InlineData(2, 1, 1)]
    [InlineData(1, 2, 32)]
    [InlineData(2, 1, 5)]
    public void Cutting_a_batch_into_runs_gives_every_image_the_vector_of_one_whole_run(int calls, int threads, int run)
    {
        var folder = ModelFolder.Open(SharedFiles.TinyImmich);
        using var whole = new ClipImageEncoder(folder, intraOpThreads: 1);
        using var cut = new ClipImageEncoder(folder, new InferenceLayout(calls, threads, run));
        Assert.Equal(new InferenceLayout(calls, threads, run), cut.Layout);
        Assert.Equal(1, cut.ConcurrentBatches);
        var pre = new ClipPreprocessor(folder.Preprocess);
        var images = SharedFiles.PreprocessImages().Take(13).ToArray(); // not a multiple of any run size tried
        var batch = new float[images.Length * pre.TensorLength];
        for (int i = 0; i < images.Length; i++)
            pre.Preprocess(File.ReadAllBytes(images[i]), batch.AsSpan(i * pre.TensorLength, pre.TensorLength));
        float[] expected = whole.Encode(batch, images.Length), actual = cut.Encode(batch, images.Length);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-5, $"value {i}: {expected[i]} vs {actual[i]}");
    }

    [Fact]
    public void A_batch_holds_a_run_for_every_call()
    {
        Assert.Equal(32, new InferenceLayout(2, 1, 8).BatchFor(32));
        Assert.Equal(64, new InferenceLayout(4, 1, 16).BatchFor(32));
        Assert.Equal(32, new InferenceLayout(1, 2).BatchFor(32));
    }
}
