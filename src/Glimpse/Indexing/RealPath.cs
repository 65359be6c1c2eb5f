using System.Runtime.InteropServices;

namespace Glimpse.Indexing;

/// <summary>
/// Where a path really leads, every symbolic link on the way resolved (realpath(3)), and the one
/// rule that keeps the library to its root: a file is indexed, served or thumbnailed only when its
/// real path lies inside the root's real path. A link to /etc/passwd in the library is not a photo.
/// </summary>
public static partial class RealPath
{
    /// <summary>The resolved absolute path, or null when it does not exist (or cannot be resolved).</summary>
    public static string? Of(string path)
    {
        IntPtr resolved = Native(Path.GetFullPath(path), IntPtr.Zero);
        if (resolved == IntPtr.Zero)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(resolved);
        }
        finally
        {
            Free(resolved);
        }
    }

    /// <summary>True when <paramref name="path"/> resolves to <paramref name="realRoot"/> or something under it.</summary>
    /// <param name="realRoot">The root's own real path (<see cref="Of"/>).</param>
    public static bool IsWithin(string realRoot, string path) =>
        Of(path) is { } real && (real == realRoot || real.StartsWith(Path.TrimEndingDirectorySeparator(realRoot) + "/", StringComparison.Ordinal));

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr Native(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void Free(IntPtr pointer);
}
