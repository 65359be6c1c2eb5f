using Onnx;

namespace Glimpse.Models.Quantization;

/// <summary>Quantises a weight matrix [K, N] with one scale (and zero point) per output column N.</summary>
internal static class WeightQuantizer
{
    public static (byte[] Data, float[] Scales, byte[] ZeroPoints, TensorProto.Types.DataType Type) PerColumn(
        float[] w, int rows, int cols, QuantizedWeights kind)
    {
        var data = new byte[w.Length];
        var scales = new float[cols];
        var zeroPoints = new byte[cols];
        var min = new float[cols];
        var max = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                float v = w[r * cols + c];
                if (v < min[c]) min[c] = v; // both start at 0: the range always holds zero exactly
                if (v > max[c]) max[c] = v;
            }
        }

        bool signed = kind is not QuantizedWeights.UInt8;
        int qmax = kind == QuantizedWeights.Int8ReducedRange ? 63 : 127;
        for (int c = 0; c < cols; c++)
        {
            if (signed)
            {
                float amax = MathF.Max(-min[c], max[c]);
                scales[c] = amax > 0 ? amax / qmax : 1f;
            }
            else
            {
                float range = max[c] - min[c];
                scales[c] = range > 0 ? range / 255f : 1f;
                zeroPoints[c] = (byte)Math.Clamp(MathF.Round(-min[c] / scales[c], MidpointRounding.ToEven), 0, 255);
            }
        }

        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                float scaled = MathF.Round(w[r * cols + c] / scales[c], MidpointRounding.ToEven);
                data[r * cols + c] = signed
                    ? unchecked((byte)(sbyte)Math.Clamp(scaled, -qmax, qmax))
                    : (byte)Math.Clamp(scaled + zeroPoints[c], 0, 255);
            }
        }
        return (data, scales, zeroPoints, signed ? TensorProto.Types.DataType.Int8 : TensorProto.Types.DataType.Uint8);
    }
}
