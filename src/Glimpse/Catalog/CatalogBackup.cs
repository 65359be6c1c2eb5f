namespace Glimpse.Catalog;

/// <summary>
/// How every back-end writes a backup: into a new SQLite file, written aside under a temporary
/// name and renamed into place when whole, so a backup file that exists is complete. An existing
/// file is never overwritten.
/// </summary>
internal static class CatalogBackup
{
    public static void Write(string destination, Action<string> writeTo)
    {
        string full = Path.GetFullPath(destination);
        if (File.Exists(full))
            throw new CatalogException($"{full} exists: name a new file for the backup (an existing file is never overwritten).");
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string temp = $"{full}.{Environment.ProcessId}.partial";
        try
        {
            writeTo(temp);
            File.Move(temp, full);
        }
        catch (IOException e) when (e.HResult == 28 || e.Message.Contains("No space", StringComparison.OrdinalIgnoreCase))
        {
            throw new CatalogException($"the disk is full while writing the backup {full}: free space or choose another disk.", e);
        }
        finally
        {
            foreach (string leftover in new[] { temp, temp + "-wal", temp + "-shm" })
                File.Delete(leftover);
        }
    }
}
