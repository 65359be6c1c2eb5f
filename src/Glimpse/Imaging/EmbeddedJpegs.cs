namespace Glimpse.Imaging;

/// <summary>
/// Finds the JPEG streams a file embeds (a RAW's previews and thumbnails) by their start marker
/// and frame header: each candidate's marker segments must chain up to a baseline, extended or
/// progressive frame header (SOF0/1/2) of 1 or 3 components, which gives its size.
/// </summary>
internal static class EmbeddedJpegs
{
    public sealed record Candidate(int Offset, int Width, int Height);

    /// <summary>How far into a candidate its frame header may lie (EXIF and maker notes come first).</summary>
    const int MaxHeaderBytes = 1 << 20;

    public static List<Candidate> Find(ReadOnlySpan<byte> file)
    {
        var found = new List<Candidate>();
        ReadOnlySpan<byte> soi = [0xFF, 0xD8, 0xFF];
        int at = 0;
        while (at < file.Length)
        {
            int next = file[at..].IndexOf(soi);
            if (next < 0)
                break;
            int offset = at + next;
            if (ReadFrame(file[offset..]) is { Components: 1 or 3 } frame)
                found.Add(new Candidate(offset, frame.Width, frame.Height));
            at = offset + 2;
        }
        return found;
    }

    /// <summary>
    /// The frame header (SOF0/1/2) of the JPEG stream at the start of <paramref name="jpeg"/>: its
    /// size and number of components (4 for CMYK/YCCK); null when it is not a picture's JPEG stream.
    /// </summary>
    public static (int Width, int Height, int Components)? ReadFrame(ReadOnlySpan<byte> jpeg)
    {
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
            return null;
        int p = 2;
        int limit = Math.Min(jpeg.Length, MaxHeaderBytes);
        while (p + 4 <= limit)
        {
            if (jpeg[p] != 0xFF)
                return null;
            byte marker = jpeg[p + 1];
            if (marker == 0xFF)
            {
                p++; // fill byte
                continue;
            }
            int length = jpeg[p + 2] << 8 | jpeg[p + 3];
            if (length < 2)
                return null;
            if (marker is 0xC0 or 0xC1 or 0xC2)
            {
                if (p + 10 > jpeg.Length)
                    return null;
                int height = jpeg[p + 5] << 8 | jpeg[p + 6];
                int width = jpeg[p + 7] << 8 | jpeg[p + 8];
                int components = jpeg[p + 9];
                return width > 0 && height > 0 && components is >= 1 and <= 4 ? (width, height, components) : null;
            }
            // Other frame types (lossless SOF3 holds sensor data, not a picture), or scan data
            // before any frame header: not a preview.
            if (marker is >= 0xC3 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC || marker is 0xDA or 0xD9)
                return null;
            if (marker is not (>= 0xE0 and <= 0xEF or 0xDB or 0xC4 or 0xDD or 0xFE or 0xCC))
                return null;
            p += 2 + length;
        }
        return null;
    }
}
