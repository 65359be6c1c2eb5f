using System.Security.Cryptography;
using System.Text;

namespace Glimpse.Models;

/// <summary>
/// The sha256 that says which weights a model file holds. For a model whose weights are inside
/// the .onnx it is the file's sha256 (as catalogs have always stored it). For a model with
/// external data, the .onnx is a bare graph, so the hash covers the graph and every external-data
/// file by name: two folders with one graph and other weights never share a catalog.
/// </summary>
/// <remarks>
/// Hashing a 1.7 GB model takes seconds, and search checks the model of every query, so each
/// file's hash is remembered per user (<c>~/.cache/glimpse/fingerprints</c>) under its full path,
/// size and modification time, and computed again when any of those changes.
/// </remarks>
internal static class ModelFingerprint
{
    public static string Of(OnnxModelFile model)
    {
        string graph = Sha256OfFile(model.Path);
        if (model.ExternalDataFiles.Count == 0)
            return graph;
        model.EnsureExternalDataPresent();
        string dir = Path.GetDirectoryName(model.Path)!;
        var text = new StringBuilder("onnx+external-data\n").Append(graph).Append('\n');
        foreach (string file in model.ExternalDataFiles.Order(StringComparer.Ordinal))
        {
            text.Append(file).Append(' ').Append(Sha256OfFile(Path.Combine(dir, file))).Append('\n');
        }
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    static string Sha256OfFile(string path)
    {
        var info = new FileInfo(path);
        string key = $"{info.FullName}\n{info.Length}\n{info.LastWriteTimeUtc.Ticks}";
        string? memo = MemoPath(key);
        if (memo is not null && TryRead(memo, key) is { } known)
            return known;

        string sha;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
            sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        if (memo is not null)
            TryWrite(memo, key, sha);
        return sha;
    }

    /// <summary>Where the hash of the file described by <paramref name="key"/> is remembered; null without a home folder.</summary>
    static string? MemoPath(string key)
    {
        string models = ModelCache.DefaultRoot();
        string? cache = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(models));
        if (string.IsNullOrEmpty(cache))
            return null;
        string name = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..32];
        return Path.Combine(cache, "fingerprints", name);
    }

    static string? TryRead(string memo, string key)
    {
        try
        {
            string[] lines = File.ReadAllLines(memo);
            // The key is stored too: a hash collision of the memo's name is then harmless.
            return lines.Length == 4 && string.Join('\n', lines[..3]) == key && lines[3].Length == 64 ? lines[3] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    static void TryWrite(string memo, string key, string sha)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(memo)!);
            string temp = $"{memo}.{Environment.ProcessId}.tmp";
            File.WriteAllText(temp, $"{key}\n{sha}\n");
            File.Move(temp, memo, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A read-only home only costs the hash again next time.
        }
    }
}
