namespace Glimpse.Models;

/// <summary>
/// What Glimpse needs to know of an .onnx file before ONNX Runtime loads it: the graph's inputs
/// and outputs with their shapes (a fixed batch axis decides how many inference calls run at once,
/// and so the session's thread count) and the external-data files its weights live in (they are
/// part of the model's identity, and a missing one must be named).
/// </summary>
/// <remarks>
/// The protobuf is walked field by field over the file, seeking past every weight. Parsers that
/// build the whole <c>ModelProto</c> (Google.Protobuf's generated classes, OnnxSharp) would first
/// read every weight into memory: 580 MB for ViT-B/32, 1.7 GB for ViT-L/14, to read two shapes.
/// Field numbers are those of onnx.proto (ModelProto.graph = 7; GraphProto.initializer = 5,
/// input = 11, output = 12; TensorProto.name = 8, external_data = 13, data_location = 14).
/// </remarks>
internal sealed class OnnxModelFile
{
    OnnxModelFile(string path, IReadOnlyList<OnnxValueInfo> inputs, IReadOnlyList<OnnxValueInfo> outputs,
        IReadOnlyList<string> externalFiles, IReadOnlySet<string> initializerNames)
    {
        Path = path;
        Inputs = inputs;
        Outputs = outputs;
        ExternalDataFiles = externalFiles;
        _initializers = initializerNames;
    }

    readonly IReadOnlySet<string> _initializers;

    public string Path { get; }

    /// <summary>The graph's inputs that are fed at run time (initializers listed as inputs by old exporters are left out).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>The distinct external-data files the weights name, relative to the model's folder, in the order first named.</summary>
    public IReadOnlyList<string> ExternalDataFiles { get; }

    /// <summary>Throws, naming the file, when an external-data file is not beside the model.</summary>
    /// <exception cref="ModelFolderException">One is missing.</exception>
    public void EnsureExternalDataPresent()
    {
        // ONNX Runtime's own message for a missing weight file is a paragraph; this names the file.
        string dir = System.IO.Path.GetDirectoryName(Path)!;
        foreach (string file in ExternalDataFiles)
            if (!File.Exists(System.IO.Path.Combine(dir, file)))
                throw new ModelFolderException($"{Path} keeps weights in {file}, which is missing from {dir}: download the model again.");
    }

    /// <summary>Reads the graph's signature and external-data references of <paramref name="path"/>.</summary>
    /// <exception cref="ModelFolderException">The file is missing or not an ONNX protobuf.</exception>
    public static OnnxModelFile Read(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            var reader = new ProtobufReader(stream);
            var inputs = new List<OnnxValueInfo>();
            var outputs = new List<OnnxValueInfo>();
            var external = new List<string>();
            var initializers = new HashSet<string>();
            bool sawGraph = false;
            long end = stream.Length;
            while (reader.Position < end)
            {
                var (field, wire) = reader.ReadTag();
                if (field == 7 && wire == ProtobufReader.LengthDelimited)
                {
                    sawGraph = true;
                    long graphEnd = reader.ReadLength() + reader.Position;
                    ReadGraph(reader, graphEnd, inputs, outputs, external, initializers);
                }
                else
                    reader.Skip(wire);
            }
            if (!sawGraph)
                throw new InvalidDataException("no graph");
            var fed = inputs.Where(i => !initializers.Contains(i.Name)).ToList();
            return new OnnxModelFile(System.IO.Path.GetFullPath(path), fed, outputs, external, initializers);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException)
        {
            throw new ModelFolderException($"{path} is not an ONNX model (its protobuf cannot be read: {e.Message}).", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFolderException($"{path} cannot be read: {e.Message}", e);
        }
    }

    static void ReadGraph(ProtobufReader reader, long end, List<OnnxValueInfo> inputs, List<OnnxValueInfo> outputs,
        List<string> external, HashSet<string> initializers)
    {
        while (reader.Position < end)
        {
            var (field, wire) = reader.ReadTag();
            if (wire != ProtobufReader.LengthDelimited)
            {
                reader.Skip(wire);
                continue;
            }
            long length = reader.ReadLength();
            long fieldEnd = reader.Position + length;
            switch (field)
            {
                case 5: // initializer: TensorProto
                    ReadInitializer(reader, fieldEnd, external, initializers);
                    break;
                case 11:
                    inputs.Add(ReadValueInfo(reader, fieldEnd));
                    break;
                case 12:
                    outputs.Add(ReadValueInfo(reader, fieldEnd));
                    break;
                default:
                    reader.Position = fieldEnd;
                    break;
            }
            reader.Position = fieldEnd;
        }
    }

    static void ReadInitializer(ProtobufReader reader, long end, List<string> external, HashSet<string> initializers)
    {
        string? location = null;
        while (reader.Position < end)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 8 && wire == ProtobufReader.LengthDelimited)
                initializers.Add(reader.ReadString());
            else if (field == 13 && wire == ProtobufReader.LengthDelimited)
            {
                // StringStringEntryProto { key = 1; value = 2; }: the "location" entry names the file.
                long entryEnd = reader.ReadLength() + reader.Position;
                string? key = null, value = null;
                while (reader.Position < entryEnd)
                {
                    var (f, w) = reader.ReadTag();
                    if (f == 1 && w == ProtobufReader.LengthDelimited)
                        key = reader.ReadString();
                    else if (f == 2 && w == ProtobufReader.LengthDelimited)
                        value = reader.ReadString();
                    else
                        reader.Skip(w);
                }
                if (key == "location" && value is not null)
                    location = value;
            }
            else
                reader.Skip(wire); // raw_data and the typed arrays: seeked past, never read
        }
        if (location is not null && !external.Contains(location))
            external.Add(location);
    }

    /// <summary>ValueInfoProto { name = 1; type = 2 } with TypeProto.tensor_type = 1 { elem_type = 1; shape = 2 }.</summary>
    static OnnxValueInfo ReadValueInfo(ProtobufReader reader, long end)
    {
        string name = "";
        int elemType = 0;
        var dims = new List<OnnxDim>();
        while (reader.Position < end)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == ProtobufReader.LengthDelimited)
                name = reader.ReadString();
            else if (field == 2 && wire == ProtobufReader.LengthDelimited)
            {
                long typeEnd = reader.ReadLength() + reader.Position;
                while (reader.Position < typeEnd)
                {
                    var (f, w) = reader.ReadTag();
                    if (f == 1 && w == ProtobufReader.LengthDelimited)
                        (elemType, dims) = ReadTensorType(reader, reader.ReadLength() + reader.Position);
                    else
                        reader.Skip(w);
                }
            }
            else
                reader.Skip(wire);
        }
        return new OnnxValueInfo(name, elemType, dims);
    }

    static (int ElemType, List<OnnxDim> Dims) ReadTensorType(ProtobufReader reader, long end)
    {
        int elemType = 0;
        var dims = new List<OnnxDim>();
        while (reader.Position < end)
        {
            var (field, wire) = reader.ReadTag();
            if (field == 1 && wire == ProtobufReader.Varint)
                elemType = (int)reader.ReadVarint();
            else if (field == 2 && wire == ProtobufReader.LengthDelimited)
            {
                // TensorShapeProto { repeated Dimension dim = 1 }, Dimension { dim_value = 1; dim_param = 2 }
                long shapeEnd = reader.ReadLength() + reader.Position;
                while (reader.Position < shapeEnd)
                {
                    var (f, w) = reader.ReadTag();
                    if (f != 1 || w != ProtobufReader.LengthDelimited)
                    {
                        reader.Skip(w);
                        continue;
                    }
                    long dimEnd = reader.ReadLength() + reader.Position;
                    long? value = null;
                    string? param = null;
                    while (reader.Position < dimEnd)
                    {
                        var (df, dw) = reader.ReadTag();
                        if (df == 1 && dw == ProtobufReader.Varint)
                            value = (long)reader.ReadVarint();
                        else if (df == 2 && dw == ProtobufReader.LengthDelimited)
                            param = reader.ReadString();
                        else
                            reader.Skip(dw);
                    }
                    dims.Add(new OnnxDim(value, param));
                }
            }
            else
                reader.Skip(wire);
        }
        return (elemType, dims);
    }
}

/// <summary>One graph input or output: its name, ONNX element type (1 = float, 6 = int32, 7 = int64) and shape.</summary>
internal sealed record OnnxValueInfo(string Name, int ElementType, IReadOnlyList<OnnxDim> Dims)
{
    public const int Float = 1, Int32 = 6, Int64 = 7;

    /// <summary>The fixed size of the first (batch) axis, or null when it is symbolic or unknown.</summary>
    public int? FixedBatch => Dims.Count > 0 && Dims[0].Value is > 0 and var v ? (int)v : null;

    public string ElementTypeName => ElementType switch
    {
        Float => "float32",
        Int32 => "int32",
        Int64 => "int64",
        10 => "float16",
        2 => "uint8",
        9 => "bool",
        11 => "float64",
        _ => $"type {ElementType}",
    };

    public override string ToString() => $"{Name} {ElementTypeName} [{string.Join(',', Dims)}]";
}

/// <summary>One axis: a fixed size, a symbolic name (a dynamic axis), or neither (unknown).</summary>
internal sealed record OnnxDim(long? Value, string? Param)
{
    public override string ToString() => Value?.ToString() ?? Param ?? "?";
}
