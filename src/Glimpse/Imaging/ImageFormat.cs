namespace Glimpse.Imaging;

/// <summary>The image formats Glimpse reads, as the file's bytes say (never its name alone).</summary>
public enum ImageFormat
{
    Unknown,
    Jpeg,
    Png,
    Gif,
    WebP,
    Bmp,
    Tiff,
    Heif,
    Avif,
    JpegXl,
    Raw,
}

/// <summary>
/// Decides a file's format from its first bytes: magic numbers, and the brand of an ISO-BMFF
/// <c>ftyp</c> box (HEIF, AVIF, Canon CR3). TIFF-based camera RAWs (DNG, NEF, ARW, PEF, CR2)
/// look like TIFF; they are told apart by CR2's own marker, a DNG version tag, or the name's
/// camera-RAW extension.
/// </summary>
public static class ImageFormatDetector
{
    /// <summary>Bytes of the file's start that <see cref="Detect"/> looks at (a TIFF's first IFD may lie further: then the name helps).</summary>
    public const int HeaderBytes = 4096;

    /// <summary>Extensions of camera RAW files (lower case, with the dot).</summary>
    public static readonly IReadOnlySet<string> RawExtensions = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf", ".pef", ".srw", ".3fr", ".iiq", ".rwl", ".erf", ".mef", ".mos", ".x3f", ".kdc", ".dcr",
    };

    public static ImageFormat Detect(ReadOnlySpan<byte> head, string? fileName = null)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
            return ImageFormat.Jpeg;
        if (head.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
            return ImageFormat.Png;
        if (head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8))
            return ImageFormat.Gif;
        if (head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8))
            return ImageFormat.WebP;
        if (head.StartsWith("BM"u8))
            return ImageFormat.Bmp;
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0x0A]) || head.StartsWith((ReadOnlySpan<byte>)[0, 0, 0, 0x0C, (byte)'J', (byte)'X', (byte)'L', (byte)' ']))
            return ImageFormat.JpegXl;
        if (head.StartsWith("FUJIFILMCCD-RAW"u8) || head.StartsWith("IIRO"u8) || head.StartsWith("IIRS"u8) || head.StartsWith("MMOR"u8)
            || head.StartsWith("IIU\0"u8))
            return ImageFormat.Raw; // Fujifilm RAF, Olympus ORF, Panasonic RW2
        if (head.StartsWith("II*\0"u8) || head.StartsWith("MM\0*"u8) || head.StartsWith("II+\0"u8) || head.StartsWith("MM\0+"u8))
            return IsTiffRaw(head, fileName) ? ImageFormat.Raw : ImageFormat.Tiff;
        if (head.Length >= 12 && head[4..8].SequenceEqual("ftyp"u8))
            return FromBrands(head);
        return ImageFormat.Unknown;
    }

    static ImageFormat FromBrands(ReadOnlySpan<byte> head)
    {
        // ftyp: size, 'ftyp', major brand, minor version, compatible brands...
        uint size = (uint)(head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]);
        int end = (int)Math.Min(Math.Max(size, 16u), (uint)head.Length);
        bool heif = false;
        for (int offset = 8; offset + 4 <= end; offset += offset == 8 ? 8 : 4)
        {
            ReadOnlySpan<byte> brand = head.Slice(offset, 4);
            if (brand.SequenceEqual("avif"u8) || brand.SequenceEqual("avis"u8))
                return ImageFormat.Avif;
            if (brand.SequenceEqual("crx "u8))
                return ImageFormat.Raw; // Canon CR3
            if (brand.SequenceEqual("heic"u8) || brand.SequenceEqual("heix"u8) || brand.SequenceEqual("hevc"u8) || brand.SequenceEqual("hevx"u8)
                || brand.SequenceEqual("heim"u8) || brand.SequenceEqual("heis"u8) || brand.SequenceEqual("hevm"u8) || brand.SequenceEqual("hevs"u8)
                || brand.SequenceEqual("mif1"u8) || brand.SequenceEqual("msf1"u8))
                heif = true;
        }
        return heif ? ImageFormat.Heif : ImageFormat.Unknown;
    }

    /// <summary>A TIFF that is a camera RAW: Canon CR2's marker, a DNGVersion tag in the first IFD, or a RAW extension.</summary>
    static bool IsTiffRaw(ReadOnlySpan<byte> head, string? fileName)
    {
        if (head.Length >= 10 && head[8] == (byte)'C' && head[9] == (byte)'R')
            return true;
        if (fileName is not null && RawExtensions.Contains(Path.GetExtension(fileName)))
            return true;
        return TiffDirectory.FindEntry(head, 0xC612) is not null; // DNGVersion
    }
}
