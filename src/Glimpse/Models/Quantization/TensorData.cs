using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using Onnx;

namespace Glimpse.Models.Quantization;

/// <summary>The bytes of an ONNX initializer, wherever onnx.proto lets a file keep them.</summary>
internal static class TensorData
{
    /// <summary>A float tensor's values, from <c>raw_data</c>, <c>float_data</c> or an external-data file beside the model.</summary>
    public static float[] ReadFloats(TensorProto tensor, string modelDir)
    {
        if (tensor.FloatData.Count > 0)
            return [.. tensor.FloatData];
        ReadOnlySpan<byte> bytes = tensor.DataLocation == TensorProto.Types.DataLocation.External
            ? ReadExternal(tensor, modelDir)
            : tensor.RawData.Span;
        // ONNX stores raw data little-endian, as every machine .NET runs Glimpse on is.
        return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
    }

    /// <summary>Moves a tensor kept in an external-data file into <c>raw_data</c>.</summary>
    public static void Inline(TensorProto tensor, string modelDir)
    {
        if (tensor.DataLocation != TensorProto.Types.DataLocation.External)
            return;
        tensor.RawData = ByteString.CopyFrom(ReadExternal(tensor, modelDir));
        tensor.ExternalData.Clear();
        tensor.ClearDataLocation();
    }

    public static TensorProto Make(string name, TensorProto.Types.DataType type, long[] dims, byte[] raw)
    {
        var t = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(raw) };
        t.Dims.Add(dims);
        return t;
    }

    public static byte[] Bytes(float[] values) => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    static byte[] ReadExternal(TensorProto tensor, string modelDir)
    {
        string? location = null;
        long offset = 0, length = -1;
        foreach (StringStringEntryProto e in tensor.ExternalData)
        {
            switch (e.Key)
            {
                case "location": location = e.Value; break;
                case "offset": offset = long.Parse(e.Value, CultureInfo.InvariantCulture); break;
                case "length": length = long.Parse(e.Value, CultureInfo.InvariantCulture); break;
            }
        }
        if (location is null || Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
            throw new InvalidDataException($"tensor {tensor.Name} names no external-data file inside the model's folder ('{location}').");
        string path = Path.Combine(modelDir, location);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (length < 0)
            length = file.Length - offset;
        if (offset < 0 || offset + length > file.Length || length > int.MaxValue)
            throw new InvalidDataException($"tensor {tensor.Name}: {location} holds {file.Length} bytes, not {length} from offset {offset}.");
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }
}
