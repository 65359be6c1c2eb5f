using Glimpse.Imaging;

namespace Glimpse.Indexing;

/// <summary>
/// What the scan takes by name (compared without case): the extensions of every format Glimpse
/// decodes (the bytes then decide the format), and the kinds of the files it leaves out, so that
/// they are counted, not skipped silently.
/// </summary>
internal static class ImageExtensions
{
    static readonly HashSet<string> Known = new(
        new[]
        {
            ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".dib", ".tif", ".tiff",
            ".heic", ".heif", ".hif", ".heics", ".avif", ".jxl",
        }.Concat(ImageFormatDetector.RawExtensions),
        StringComparer.OrdinalIgnoreCase);

    public static bool IsImage(string path) => Known.Contains(Path.GetExtension(path));

    /// <summary>Why a file that is not an image is left out: its kind, for the counts a run and <c>status</c> show.</summary>
    public static string SkippedKind(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".mp4" or ".mov" or ".m4v" or ".avi" or ".mkv" or ".webm" or ".mts" or ".m2ts" or ".3gp" or ".wmv" or ".mpg" or ".mpeg" or ".insv" or ".lrv" => "video",
        ".svg" or ".svgz" or ".pdf" or ".eps" or ".ai" or ".psd" or ".xcf" or ".kra" => "vector or document",
        ".xmp" or ".aae" or ".thm" or ".json" or ".xml" or ".pp3" or ".dop" or ".on1" or ".lrf" => "sidecar",
        _ => "other",
    };
}
