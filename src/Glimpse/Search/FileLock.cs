namespace Glimpse.Search;

/// <summary>
/// An exclusive lock between processes on a file beside derived data: an open with no sharing,
/// which .NET takes with an advisory flock, so it ends with the process however it ends.
/// </summary>
internal static class FileLock
{
    /// <summary>Waits until the lock at <paramref name="path"/> is free, then holds it until disposed.</summary>
    public static FileStream Acquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1);
            }
            catch (IOException e) when (e is not (FileNotFoundException or DirectoryNotFoundException or PathTooLongException))
            {
                Thread.Sleep(100); // held by another process (sharing violation)
            }
        }
    }
}
