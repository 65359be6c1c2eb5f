namespace Glimpse.Imaging;

/// <summary>
/// A camera RAW's own EXIF orientation (tag 0x0112 of its first TIFF directory): at the start of
/// the TIFF-based formats (DNG, CR2, NEF, ARW, PEF, ORF, RW2), in the <c>CMT1</c> box of a CR3.
/// Null when the file has none there (RAF keeps it in its preview's own EXIF).
/// </summary>
internal static class RawOrientation
{
    public static int? Read(ReadOnlySpan<byte> file)
    {
        if (file.Length >= 8 && (file.StartsWith("II"u8) || file.StartsWith("MM"u8)))
            return FromTiff(file);
        // CR3 (ISO-BMFF): the CMT1 box holds IFD0 as a TIFF of its own.
        int cmt1 = file[..Math.Min(file.Length, 1 << 16)].IndexOf("CMT1"u8);
        if (cmt1 >= 0 && cmt1 + 12 <= file.Length)
            return FromTiff(file[(cmt1 + 4)..]);
        return null;
    }

    static int? FromTiff(ReadOnlySpan<byte> tiff) =>
        TiffDirectory.Short(tiff, 0x0112) is { } value and >= 1 and <= 8 ? value : null;
}
