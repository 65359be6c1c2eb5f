using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Numpy;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Models;

// Issue 3, item 2 (model folders) and item 3 (embeddings of the reference tensors).
public class ModelFolderTests
{
    [Theory]
    [InlineData("tiny-immich", ModelLayout.Immich, 224, 512)]
    [InlineData("tiny-hf", ModelLayout.HuggingFace, 224, 512)]
    [InlineData("tiny-256-768-hf", ModelLayout.HuggingFace, 256, 768)]
    public void Both_layouts_load_with_size_and_dimension_read_from_the_files(string name, ModelLayout layout, int size, int dim)
    {
        var folder = ModelFolder.Open(Path.Combine(SharedFiles.Models, name));
        using var encoder = new ClipImageEncoder(folder, intraOpThreads: 1);
        Assert.Equal(layout, folder.Layout);
        Assert.Equal(size, folder.Preprocess.Size);
        Assert.Equal(dim, encoder.Dimension);
        Assert.Equal(64, encoder.Identity.VisualSha256.Length);
    }

    [Theory]
    [InlineData("tiny-immich")]
    [InlineData("tiny-hf")]
    public void Reference_tensor_embeds_to_the_reference_embedding(string model)
    {
        using var encoder = new ClipImageEncoder(ModelFolder.Open(Path.Combine(SharedFiles.Models, model)), intraOpThreads: 1);
        foreach (string image in SharedFiles.PreprocessImages())
        {
            string stem = Path.Combine(SharedFiles.PreprocessFixtures, Path.GetFileNameWithoutExtension(image));
            float[] tensor = NpyFile.Read(stem + ".tensor.npy").Data;
            float[] expected = NpyFile.Read(stem + ".embedding.npy").Data;
            float[] actual = encoder.Encode(tensor, 1);
            Assert.True(Vectors.Cosine(actual, expected) >= 0.9999, $"{image}: cosine {Vectors.Cosine(actual, expected)}");
        }
    }

    [Fact]
    public void Own_tensors_embed_close_to_the_reference_through_tiny_and_probe_models()
    {
        foreach (var (model, suffix) in new[] { ("tiny-immich", ".embedding.npy"), ("probe-immich", ".probe.npy") })
        {
            using var encoder = new ClipImageEncoder(ModelFolder.Open(Path.Combine(SharedFiles.Models, model)), intraOpThreads: 1);
            var pre = new ClipPreprocessor(encoder.Folder.Preprocess);
            var images = SharedFiles.PreprocessImages().ToArray();
            var batch = new float[images.Length * pre.TensorLength];
            for (int i = 0; i < images.Length; i++)
                pre.Preprocess(File.ReadAllBytes(images[i]), batch.AsSpan(i * pre.TensorLength, pre.TensorLength));
            float[] vectors = encoder.Encode(batch, images.Length);
            for (int i = 0; i < images.Length; i++)
            {
                float[] expected = NpyFile.Read(Path.ChangeExtension(images[i], null) + suffix).Data;
                double cos = Vectors.Cosine(vectors.AsSpan(i * 512, 512).ToArray(), expected);
                Assert.True(cos >= 0.999, $"{model} {Path.GetFileName(images[i])}: cosine {cos}");
            }
        }
    }

    [Fact]
    public void A_folder_of_neither_layout_is_one_clear_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), "{}");
        var e = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(dir.Path));
        Assert.Contains("visual/model.onnx", e.Message);
        Assert.Contains("onnx/vision_model.onnx", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_preprocess_config_is_named()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "visual"));
        File.Copy(Path.Combine(SharedFiles.TinyImmich, "visual", "model.onnx"), Path.Combine(dir.Path, "visual", "model.onnx"));
        var e = Assert.Throws<ModelFolderException>(() => ModelFolder.Open(dir.Path));
        Assert.Contains("preprocess_cfg.json", e.Message);
    }

    [Fact]
    public void A_broken_onnx_file_is_one_clear_error()
    {
        using var dir = new TempDir();
        CopyDirectory(SharedFiles.TinyImmich, dir.Path);
        string onnx = Path.Combine(dir.Path, "visual", "model.onnx");
        File.SetAttributes(onnx, FileAttributes.Normal);
        File.WriteAllBytes(onnx, File.ReadAllBytes(onnx).AsSpan(0, 5000).ToArray());
        var e = Assert.Throws<ModelFolderException>(() => new ClipImageEncoder(ModelFolder.Open(dir.Path)));
        Assert.Contains("not", e.Message);
        Assert.Contains("ONNX model", e.Message);
        Assert.Contains(onnx, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
            File.SetAttributes(target, FileAttributes.Normal);
        }
    }
}
