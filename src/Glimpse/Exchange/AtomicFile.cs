namespace Glimpse.Exchange;

/// <summary>Writes a file under a temporary name beside it and renames it into place, so readers see the old file or the whole new one.</summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<string> writeTemp)
    {
        string temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        try
        {
            writeTemp(temp);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }
}
