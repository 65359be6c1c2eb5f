using Glimpse.Imaging;
using Glimpse.Models;
using Glimpse.Models.Quantization;
using Glimpse.Tests.Support;
using Onnx;

namespace Glimpse.Tests.Models.Quantization;

// Issue 15 item 2: an int8 copy of a model folder, made in C#, that ONNX Runtime loads and that
// embeds the fixtures close to the float model, under an identity of its own.
public class ModelQuantizerTests
{
    public static TheoryData<string, QuantizedWeights> Sources => new()
    {
        { "tiny-immich", QuantizedWeights.Int8ReducedRange },
        { "tiny-immich", QuantizedWeights.Int8 },
        { "tiny-immich", QuantizedWeights.UInt8 },
        { "tiny-immich-external-data", QuantizedWeights.Int8ReducedRange },
        { "tiny-immich-static", QuantizedWeights.Int8ReducedRange },
        { "tiny-hf", QuantizedWeights.Int8ReducedRange },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void The_int8_copy_embeds_every_fixture_close_to_the_float_model_under_its_own_identity(string source, QuantizedWeights weights)
    {
        using var dir = new TempDir();
        var folder = ModelFolder.Open(Path.Combine(SharedFiles.Models, source));
        var result = ModelQuantizer.Quantize(folder, Path.Combine(dir.Path, "q"), weights);
        var copy = ModelFolder.Open(result.Path);

        Assert.Equal(folder.Layout, copy.Layout);
        Assert.True(result.Visual.MatMuls + result.Visual.Gemms > 0);
        Assert.NotNull(result.Text);
        Assert.True(result.Visual.IntWeightBytes * 4 == result.Visual.FloatWeightBytes, $"{result.Visual}");
        Assert.NotEqual(folder.ReadIdentity().VisualSha256, copy.ReadIdentity().VisualSha256);
        Assert.True(File.Exists(Path.Combine(result.Path, ModelQuantizer.RecordFile)));
        Assert.True(File.Exists(copy.TokenizerPath), "the tokenizer comes along");
        // No external-data file is left pointing at the source's weights.
        Assert.Empty(Directory.EnumerateFiles(result.Path, "*.data", SearchOption.AllDirectories));

        var graph = ReadGraph(copy.VisualModelPath);
        Assert.Equal(result.Visual.MatMuls + result.Visual.Gemms, graph.Node.Count(n => n.OpType == "DynamicQuantizeMatMul" && n.Domain == "com.microsoft"));
        Assert.DoesNotContain(graph.Node, n => n.OpType == "MatMul" && graph.Initializer.Any(t => t.Name == n.Input[1]));

        using var reference = new ClipImageEncoder(folder, intraOpThreads: 1);
        using var quantized = new ClipImageEncoder(copy, intraOpThreads: 1);
        var pre = new ClipPreprocessor(folder.Preprocess);
        var images = SharedFiles.PreprocessImages().ToArray();
        var batch = new float[images.Length * pre.TensorLength];
        for (int i = 0; i < images.Length; i++)
            pre.Preprocess(File.ReadAllBytes(images[i]), batch.AsSpan(i * pre.TensorLength, pre.TensorLength));
        float[] expected = reference.Encode(batch, images.Length), actual = quantized.Encode(batch, images.Length);
        int dim = reference.Dimension;
        double identical = 0;
        for (int i = 0; i < images.Length; i++)
        {
            double cos = Vectors.Cosine(actual.AsSpan(i * dim, dim).ToArray(), expected.AsSpan(i * dim, dim).ToArray());
            Assert.True(cos >= 0.99, $"{Path.GetFileName(images[i])}: cosine {cos}");
            identical += cos > 0.999999 ? 1 : 0;
        }
        Assert.True(identical < images.Length, "int8 vectors equal to float ones: the quantised graph is not what ran");

        using var floatText = new ClipTextEncoder(folder, 1);
        using var intText = new ClipTextEncoder(copy, 1);
        float[] t0 = floatText.Encode(["a dog on the beach"]), t1 = intText.Encode(["a dog on the beach"]);
        Assert.True(Vectors.Cosine(t0, t1) >= 0.99);
    }

    [Fact]
    public void A_model_with_nothing_left_to_quantise_is_refused_and_leaves_no_folder()
    {
        using var dir = new TempDir();
        var once = ModelQuantizer.Quantize(ModelFolder.Open(SharedFiles.TinyImmich), Path.Combine(dir.Path, "once"), QuantizedWeights.Int8);
        string twice = Path.Combine(dir.Path, "twice");
        var e = Assert.Throws<ModelFolderException>(() => ModelQuantizer.Quantize(ModelFolder.Open(once.Path), twice, QuantizedWeights.Int8));
        Assert.Contains("nothing to quantise", e.Message);
        Assert.Equal(["once"], Directory.EnumerateFileSystemEntries(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void An_existing_destination_is_never_overwritten()
    {
        using var dir = new TempDir();
        string target = dir.Sub("taken");
        File.WriteAllText(Path.Combine(target, "mine.txt"), "keep");
        Assert.Throws<IOException>(() => ModelQuantizer.Quantize(ModelFolder.Open(SharedFiles.TinyImmich), target, QuantizedWeights.Int8));
        Assert.Equal("keep", File.ReadAllText(Path.Combine(target, "mine.txt")));
    }

    static GraphProto ReadGraph(string path)
    {
        using var stream = File.OpenRead(path);
        return ModelProto.Parser.ParseFrom(stream).Graph;
    }
}
