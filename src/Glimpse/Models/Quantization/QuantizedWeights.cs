namespace Glimpse.Models.Quantization;

/// <summary>How a quantised weight matrix stores its values.</summary>
public enum QuantizedWeights
{
    /// <summary>Signed 8-bit, symmetric (zero point 0), one scale per output column: ONNX Runtime's default for weights.</summary>
    Int8,

    /// <summary>
    /// Signed 7-bit values in 8 bits (ONNX Runtime's <c>reduce_range</c>): on x86 CPUs without VNNI
    /// the u8×s8 kernels add pairs of products in 16 bits, which 8-bit weights can overflow.
    /// </summary>
    Int8ReducedRange,

    /// <summary>Unsigned 8-bit, asymmetric (a zero point per column): no overflow, on any x86 CPU.</summary>
    UInt8,
}

/// <summary>What one graph's quantisation did.</summary>
public sealed record QuantizedGraph(int MatMuls, int Gemms, int LeftFloat, long FloatWeightBytes, long IntWeightBytes);
