using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 12: the model folders Immich's exporters have written (today: a static batch of 1 and
// outputs named 'embedding'; before: 'image_embedding' / 'text_embedding'; large models: weights
// in external-data files) give the vectors of the same weights in the dynamic layout.
public class ModelExportStylesTests
{
    public static TheoryData<string> ExportStyles => new() { "tiny-immich-static", "tiny-immich-legacy", "tiny-immich-external-data" };

    [Theory]
    [MemberData(nameof(ExportStyles))]
    public void Every_export_style_embeds_every_fixture_image_as_the_dynamic_folder_does(string style)
    {
        using var reference = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), intraOpThreads: 1);
        using var encoder = new ClipImageEncoder(ModelFolder.Open(Path.Combine(SharedFiles.Models, style)), intraOpThreads: 1);
        var pre = new ClipPreprocessor(encoder.Folder.Preprocess);
        var images = SharedFiles.PreprocessImages().ToArray();
        var batch = new float[images.Length * pre.TensorLength];
        for (int i = 0; i < images.Length; i++)
            pre.Preprocess(File.ReadAllBytes(images[i]), batch.AsSpan(i * pre.TensorLength, pre.TensorLength));

        // All images in one call: a batch-1 model runs them one by one, a dynamic one at once.
        float[] expected = reference.Encode(batch, images.Length);
        float[] actual = encoder.Encode(batch, images.Length);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < images.Length; i++)
        {
            double cos = Vectors.Cosine(actual.AsSpan(i * 512, 512).ToArray(), expected.AsSpan(i * 512, 512).ToArray());
            Assert.True(cos >= 0.9999, $"{style} {Path.GetFileName(images[i])}: cosine {cos}");
        }
    }

    [Theory]
    [MemberData(nameof(ExportStyles))]
    public void Every_export_style_encodes_texts_as_the_dynamic_folder_does(string style)
    {
        string[] texts = ["a dog on the beach", "", "a photo of a cat", "snow on the mountains at night"];
        using var reference = new ClipTextEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        using var encoder = new ClipTextEncoder(ModelFolder.Open(Path.Combine(SharedFiles.Models, style)), 1);
        float[] expected = reference.Encode(texts), actual = encoder.Encode(texts);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < texts.Length; i++)
        {
            double cos = Vectors.Cosine(actual.AsSpan(i * 512, 512).ToArray(), expected.AsSpan(i * 512, 512).ToArray());
            Assert.True(cos >= 0.9999, $"{style} '{texts[i]}': cosine {cos}");
        }
    }

    [Fact]
    public void The_batch_axis_is_read_from_the_file_and_a_batch_1_model_runs_one_call_per_core()
    {
        using var dynamicModel = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich));
        using var staticModel = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmichStatic));
        using var legacy = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmichLegacy));
        Assert.Null(dynamicModel.FixedBatch);
        Assert.Null(legacy.FixedBatch);
        Assert.Equal(1, staticModel.FixedBatch);
        Assert.Equal(new InferenceLayout(1, Environment.ProcessorCount), dynamicModel.Layout);
        Assert.Equal(new InferenceLayout(Environment.ProcessorCount, 1), staticModel.Layout);

        using var text = new ClipTextEncoder(ModelFolder.Open(SharedFiles.TinyImmichStatic), 1);
        Assert.Equal(1, text.FixedBatch);
    }

    [Theory]
    [InlineData(null, 0, 0, 8, 1, 8)]   // batches: one call over every core
    [InlineData(1, 0, 0, 8, 8, 1)]      // batch 1: one single-threaded call per core
    [InlineData(8, 0, 0, 8, 1, 8)]      // a fixed batch of 8 still batches
    [InlineData(1, 2, 0, 8, 4, 2)]      // --threads 2 on a batch-1 model: 4 calls
    [InlineData(null, 0, 4, 8, 4, 2)]   // --encoders 4: the cores split between them
    [InlineData(null, 3, 2, 8, 2, 3)]   // both given: as given
    public void The_inference_layout_follows_the_batch_axis_unless_the_user_fixes_it(int? batch, int threads, int calls, int cores, int expectedCalls, int expectedThreads)
    {
        Assert.Equal(new InferenceLayout(expectedCalls, expectedThreads), InferenceLayout.Choose(batch, threads, calls, cores));
    }

    [Fact]
    public void A_static_batch_1_model_concurrently_encodes_the_same_vectors_as_one_by_one()
    {
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmichStatic));
        var pre = new ClipPreprocessor(encoder.Folder.Preprocess);
        var images = SharedFiles.PreprocessImages().ToArray();
        var tensors = images.Select(i => { var t = new float[pre.TensorLength]; pre.Preprocess(File.ReadAllBytes(i), t); return t; }).ToArray();
        float[][] alone = tensors.Select(t => encoder.Encode(t, 1)).ToArray();
        var together = new float[tensors.Length][];
        Parallel.For(0, tensors.Length * 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
            together[k % tensors.Length] = encoder.Encode(tensors[k % tensors.Length], 1));
        for (int i = 0; i < tensors.Length; i++)
            Assert.Equal(alone[i], together[i]);
    }

    [Fact]
    public void An_index_run_with_todays_immich_export_embeds_every_image_like_the_dynamic_model()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        foreach (string image in SharedFiles.PreprocessImages())
            File.Copy(image, Path.Combine(photos, Path.GetFileName(image)));
        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", SharedFiles.TinyImmichStatic, "--offline"]);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains($"embedded {SharedFiles.PreprocessImages().Count()} images", stdout);

        using var reference = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        var pre = new ClipPreprocessor(reference.Folder.Preprocess);
        var rows = CatalogReader.ReadAll(Path.Combine(photos, ".glimpse", "catalog.db"));
        CatalogReader.AssertCompleteAndDense(rows);
        foreach (var (path, row) in rows)
        {
            var tensor = new float[pre.TensorLength];
            pre.Preprocess(File.ReadAllBytes(Path.Combine(photos, path)), tensor);
            double cos = Vectors.Cosine(row.Vector!, reference.Encode(tensor, 1));
            Assert.True(cos >= 0.9999, $"{path}: cosine {cos}");
        }
    }

    [Fact]
    public void External_data_loads_from_any_working_directory()
    {
        using var dir = new TempDir();
        string photos = dir.Sub("photos");
        string elsewhere = dir.Sub("elsewhere");
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(photos, "a.jpg"));
        // The folder given relative to a working directory that is neither the model's nor the photos'.
        string model = Path.GetRelativePath(elsewhere, SharedFiles.TinyImmichExternalData);
        var (code, stdout, stderr) = CliProcess.Run(["index", photos, "--model", model, "--offline"], workingDirectory: elsewhere);
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("embedded 1 images", stdout);
        var (searchCode, found, searchErr) = CliProcess.Run(["search", photos, "a dog", "--model", model, "--offline"], workingDirectory: elsewhere);
        Assert.True(searchCode == 0, $"exit {searchCode}\n{found}\n{searchErr}");
        Assert.Contains("a.jpg", found);
    }

    [Fact]
    public void The_identity_of_an_external_data_model_covers_its_weights()
    {
        using var dir = new TempDir();
        string same = Path.Combine(dir.Path, "same");
        string other = Path.Combine(dir.Path, "other");
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmichExternalData, same);
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmichExternalData, other);
        // Same graph (model.onnx untouched), other weights: one value of the patch embedding changed.
        string weights = Path.Combine(other, "visual", "m.conv.weight");
        byte[] bytes = File.ReadAllBytes(weights);
        bytes[1000] ^= 0x40;
        File.WriteAllBytes(weights, bytes);

        ModelIdentity original = VisualModelSignature.Read(ModelFolder.Open(SharedFiles.TinyImmichExternalData)).Identity;
        ModelIdentity copy = VisualModelSignature.Read(ModelFolder.Open(same)).Identity;
        ModelIdentity changed = VisualModelSignature.Read(ModelFolder.Open(other)).Identity;
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(SharedFiles.TinyImmichExternalData, "visual", "model.onnx")),
            File.ReadAllBytes(Path.Combine(other, "visual", "model.onnx")));
        Assert.True(original.IsCompatibleWith(copy));
        Assert.False(original.IsCompatibleWith(changed));

        // And a catalog indexed with one refuses the other.
        string photos = Path.Combine(dir.Path, "photos");
        Directory.CreateDirectory(photos);
        File.Copy(SharedFiles.PreprocessImages().First(), Path.Combine(photos, "a.jpg"));
        Assert.Equal(0, CliProcess.Run(["index", photos, "--model", same, "--offline"]).ExitCode);
        File.Copy(SharedFiles.PreprocessImages().Last(), Path.Combine(photos, "b.png"));
        var (code, _, stderr) = CliProcess.Run(["index", photos, "--model", other, "--offline"]);
        Assert.Equal(1, code);
        Assert.Contains("never mixed", stderr);
    }

    [Fact]
    public void A_missing_external_data_file_is_one_line_that_names_it()
    {
        using var dir = new TempDir();
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmichExternalData, dir.Path);
        File.Delete(Path.Combine(dir.Path, "visual", "m.proj"));
        var e = Assert.Throws<ModelFolderException>(() => new ClipImageEncoder(ModelFolder.Open(dir.Path)));
        Assert.Contains("m.proj", e.Message);
        Assert.Contains("missing", e.Message);
        Assert.DoesNotContain('\n', e.Message);

        File.Delete(Path.Combine(dir.Path, "textual", "m.tok.weight"));
        var t = Assert.Throws<ModelFolderException>(() => new ClipTextEncoder(ModelFolder.Open(dir.Path)));
        Assert.Contains("m.tok.weight", t.Message);
        Assert.DoesNotContain('\n', t.Message);
    }

    [Theory]
    [InlineData("visual", "textual", "not an image encoder", "text int32 [batch,77]")]  // a visual model without an image input
    [InlineData("textual", "visual", "no token-id input", "image float32 [batch,3,224,224]")]  // a text model the tokenizer cannot fill
    public void An_encoder_file_of_the_wrong_kind_is_one_line_that_names_it_and_its_inputs(string slot, string takenFrom, string what, string inputs)
    {
        using var dir = new TempDir();
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmich, dir.Path);
        string file = Path.Combine(dir.Path, slot, "model.onnx");
        File.Copy(Path.Combine(SharedFiles.TinyImmich, takenFrom, "model.onnx"), file, overwrite: true);
        var folder = ModelFolder.Open(dir.Path);
        var e = Assert.Throws<ModelFolderException>(() => { using IDisposable _ = slot == "visual" ? new ClipImageEncoder(folder) : new ClipTextEncoder(folder); });
        Assert.Contains(file, e.Message);
        Assert.Contains(what, e.Message);
        Assert.Contains(inputs, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_file_that_is_not_an_onnx_protobuf_is_one_line_that_names_it()
    {
        using var dir = new TempDir();
        ModelFolderTests.CopyDirectory(SharedFiles.TinyImmich, dir.Path);
        string visual = Path.Combine(dir.Path, "visual", "model.onnx");
        File.WriteAllText(visual, "<html>404 Not Found</html>");
        var e = Assert.Throws<ModelFolderException>(() => new ClipImageEncoder(ModelFolder.Open(dir.Path)));
        Assert.Contains(visual, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
