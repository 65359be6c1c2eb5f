using Glimpse.Models.Quantization;
using Glimpse.Tests.Support;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace Glimpse.Tests.Models.Quantization;

// The Gemm forms exporters write (Linear layers as Gemm with transB = 1 and a bias), quantised
// and run by ONNX Runtime against the float graph on the same input.
public class OnnxQuantizerTests
{
    const int K = 64, N = 48, Rows = 5;

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void A_gemm_with_a_constant_weight_becomes_one_quantised_matmul_with_the_same_output(bool transB, bool bias)
    {
        using var dir = new TempDir();
        string source = Path.Combine(dir.Path, "gemm.onnx"), target = Path.Combine(dir.Path, "gemm-int8.onnx");
        var random = new Random(7);
        float[] w = [.. Enumerable.Range(0, K * N).Select(_ => (float)(random.NextDouble() * 2 - 1) * 0.2f)];
        float[] c = [.. Enumerable.Range(0, N).Select(_ => (float)random.NextDouble())];
        WriteGemm(source, w, transB, bias ? c : null);

        QuantizedGraph result = OnnxQuantizer.Quantize(source, target, QuantizedWeights.Int8ReducedRange);
        Assert.Equal((0, 1, 0), (result.MatMuls, result.Gemms, result.LeftFloat));

        float[] x = [.. Enumerable.Range(0, Rows * K).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] expected = Run(source, x), actual = Run(target, x);
        Assert.Equal(Rows * N, actual.Length);
        double worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        double scale = expected.Max(Math.Abs);
        Assert.True(worst < 0.03 * scale, $"largest difference {worst} of values up to {scale}");
        Assert.True(worst > 0, "identical outputs: the float Gemm ran, not the quantised one");
    }

    [Fact]
    public void A_gemm_that_is_not_a_plain_product_stays_float()
    {
        using var dir = new TempDir();
        string source = Path.Combine(dir.Path, "gemm.onnx"), target = Path.Combine(dir.Path, "gemm-int8.onnx");
        WriteGemm(source, new float[K * N], transB: false, bias: null, alpha: 0.5f);
        QuantizedGraph result = OnnxQuantizer.Quantize(source, target, QuantizedWeights.Int8);
        Assert.Equal((0, 0, 1), (result.MatMuls, result.Gemms, result.LeftFloat));
    }

    static void WriteGemm(string path, float[] w, bool transB, float[]? bias, float alpha = 1f)
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(Value("x", Rows, K));
        graph.Output.Add(Value("y", Rows, N));
        var weight = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float };
        float[] stored = transB ? OnnxQuantizer.Transpose(w, K, N) : w;
        weight.Dims.Add(transB ? new long[] { N, K } : [K, N]);
        weight.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(stored.AsSpan()));
        graph.Initializer.Add(weight);
        var node = new NodeProto { OpType = "Gemm", Name = "fc" };
        node.Input.Add("x");
        node.Input.Add("w");
        if (bias is not null)
        {
            var b = new TensorProto { Name = "b", DataType = (int)TensorProto.Types.DataType.Float };
            b.Dims.Add(N);
            b.FloatData.Add(bias);
            graph.Initializer.Add(b);
            node.Input.Add("b");
        }
        node.Output.Add("y");
        node.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = transB ? 1 : 0 });
        node.Attribute.Add(new AttributeProto { Name = "alpha", Type = AttributeProto.Types.AttributeType.Float, F = alpha });
        graph.Node.Add(node);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        File.WriteAllBytes(path, model.ToByteArray());
    }

    static ValueInfoProto Value(string name, long rows, long cols)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = rows });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = cols });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }

    static float[] Run(string path, float[] x)
    {
        using var session = new InferenceSession(path);
        using var input = OrtValue.CreateTensorValueFromMemory(x, [Rows, K]);
        using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }
}
