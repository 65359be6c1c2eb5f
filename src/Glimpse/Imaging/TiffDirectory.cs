namespace Glimpse.Imaging;

/// <summary>Reads entries of a TIFF structure's first directory (IFD0), as TIFF files and the TIFF-based RAWs lay it out.</summary>
internal static class TiffDirectory
{
    /// <summary>The byte offset of tag <paramref name="tag"/>'s 12-byte entry in IFD0, or null when the tag (or a readable IFD0) is not there.</summary>
    public static int? FindEntry(ReadOnlySpan<byte> tiff, ushort tag)
    {
        if (tiff.Length < 8 || !(tiff.StartsWith("II"u8) || tiff.StartsWith("MM"u8)))
            return null;
        bool little = tiff[0] == (byte)'I';
        long ifd = Read32(tiff, 4, little);
        if (ifd < 8 || ifd + 2 > tiff.Length)
            return null;
        int count = Read16(tiff, (int)ifd, little);
        for (int i = 0; i < count; i++)
        {
            int entry = (int)ifd + 2 + i * 12;
            if (entry + 12 > tiff.Length)
                return null;
            if (Read16(tiff, entry, little) == tag)
                return entry;
        }
        return null;
    }

    /// <summary>A SHORT tag's value in IFD0, or null.</summary>
    public static int? Short(ReadOnlySpan<byte> tiff, ushort tag) =>
        FindEntry(tiff, tag) is { } entry ? Read16(tiff, entry + 8, tiff[0] == (byte)'I') : null;

    static int Read16(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? b[at] | b[at + 1] << 8 : b[at] << 8 | b[at + 1];

    static long Read32(ReadOnlySpan<byte> b, int at, bool little) =>
        little ? (uint)(b[at] | b[at + 1] << 8 | b[at + 2] << 16 | b[at + 3] << 24) : (uint)(b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3]);
}
