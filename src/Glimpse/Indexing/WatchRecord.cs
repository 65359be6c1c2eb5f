using System.Text.Json;

namespace Glimpse.Indexing;

/// <summary>
/// That a <c>glimpse watch</c> keeps a catalog current, and since when: a small file beside the
/// catalog's derived data, written when the watch starts and removed when it stops. A watch killed
/// with SIGKILL leaves it behind, so a reader believes it only while its process lives.
/// </summary>
public sealed record WatchRecord(int Pid, string Host, DateTimeOffset Since, string Root)
{
    public static string PathFor(Catalog.ICatalog catalog) => catalog.DerivedDataPrefix + ".watch";

    public void Write(Catalog.ICatalog catalog)
    {
        string path = PathFor(catalog);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this));
        File.Move(temp, path, overwrite: true);
    }

    public static void Remove(Catalog.ICatalog catalog)
    {
        try
        {
            if (Read(catalog) is { } mine && mine.Pid == Environment.ProcessId && mine.Host == Environment.MachineName)
                File.Delete(PathFor(catalog));
        }
        catch (IOException)
        {
            // Left behind: readers check the process anyway.
        }
    }

    /// <summary>The watch of this catalog that is running now, or null (none, or one that died; on another machine: as recorded).</summary>
    public static WatchRecord? ReadLive(Catalog.ICatalog catalog) =>
        Read(catalog) is { } record && (record.Host != Environment.MachineName || Directory.Exists($"/proc/{record.Pid}")) ? record : null;

    static WatchRecord? Read(Catalog.ICatalog catalog)
    {
        try
        {
            return File.Exists(PathFor(catalog)) ? JsonSerializer.Deserialize<WatchRecord>(File.ReadAllText(PathFor(catalog))) : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
