namespace Glimpse.Indexing;

/// <summary>The file name extensions the scan takes for images (compared without case).</summary>
internal static class ImageExtensions
{
    static readonly HashSet<string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff",
    };

    public static bool IsImage(string path) => Known.Contains(Path.GetExtension(path));
}
