using System.Text;

namespace Glimpse.Models;

/// <summary>
/// The protobuf wire format read over a seekable stream: tags, varints, lengths and strings, and
/// skipping a field by seeking (a 500 MB weight is passed over, not read).
/// </summary>
internal sealed class ProtobufReader(Stream stream)
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, StartGroup = 3, EndGroup = 4, Fixed32 = 5;

    public long Position
    {
        get => stream.Position;
        set => stream.Position = value;
    }

    public (int Field, int Wire) ReadTag()
    {
        ulong tag = ReadVarint();
        int field = (int)(tag >> 3);
        if (field == 0)
            throw new InvalidDataException($"a field number 0 at byte {Position}");
        return (field, (int)(tag & 7));
    }

    public ulong ReadVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = stream.ReadByte();
            if (b < 0)
                throw new EndOfStreamException($"the file ends inside a number at byte {Position}");
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
                return result;
        }
        throw new InvalidDataException($"a number longer than 10 bytes at byte {Position}");
    }

    /// <summary>A length prefix, checked against what is left of the file.</summary>
    public long ReadLength()
    {
        ulong length = ReadVarint();
        if (length > (ulong)(stream.Length - stream.Position))
            throw new InvalidDataException($"a field of {length} bytes at byte {Position} runs past the end of the file");
        return (long)length;
    }

    public string ReadString()
    {
        long length = ReadLength();
        if (length > 1 << 20)
            throw new InvalidDataException($"a name of {length} bytes at byte {Position}");
        var bytes = new byte[length];
        stream.ReadExactly(bytes);
        return Encoding.UTF8.GetString(bytes);
    }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Position += 8;
                break;
            case LengthDelimited:
                long length = ReadLength();
                Position += length;
                break;
            case Fixed32:
                Position += 4;
                break;
            default:
                throw new InvalidDataException($"wire type {wire} at byte {Position}");
        }
        if (Position > stream.Length)
            throw new EndOfStreamException($"a field runs past the end of the file");
    }
}
