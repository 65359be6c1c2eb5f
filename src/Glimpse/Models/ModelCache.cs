namespace Glimpse.Models;

/// <summary>
/// The per-user model cache: <c>$GLIMPSE_MODELS</c>, else <c>$XDG_CACHE_HOME/glimpse/models</c>,
/// else <c>~/.cache/glimpse/models</c>; one folder per model name.
/// </summary>
public sealed class ModelCache
{
    /// <summary>The model a new user gets: OpenAI's ViT-B/32 in the Immich layout.</summary>
    public const string DefaultModel = "ViT-B-32__openai";

    public ModelCache(string? root = null) => Root = root ?? DefaultRoot();

    public string Root { get; }

    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("GLIMPSE_MODELS") is { Length: > 0 } env)
            return env;
        string cache = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(cache, "glimpse", "models");
    }

    public string PathOf(string name) => Path.Combine(Root, name);

    /// <summary>A folder path as given, else a cached model of that name; null when neither exists.</summary>
    public string? Resolve(string nameOrPath)
    {
        if (Directory.Exists(nameOrPath))
            return Path.GetFullPath(nameOrPath);
        if (IsValidName(nameOrPath) && Directory.Exists(PathOf(nameOrPath)))
            return PathOf(nameOrPath);
        return null;
    }

    /// <summary>A cached model: its name, layout, dimension, size on disk and place.</summary>
    public sealed record Entry(string Name, string Layout, int? Dimension, long Bytes, string Path, string? Problem);

    public IReadOnlyList<Entry> List()
    {
        if (!Directory.Exists(Root))
            return [];
        var entries = new List<Entry>();
        foreach (string dir in Directory.EnumerateDirectories(Root).Where(d => !System.IO.Path.GetFileName(d).StartsWith('.')).Order())
        {
            long bytes = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
            try
            {
                var folder = ModelFolder.Open(dir);
                entries.Add(new Entry(folder.Name, folder.Layout.ToString(), folder.ConfigEmbeddingDim, bytes, dir, null));
            }
            catch (ModelFolderException e)
            {
                entries.Add(new Entry(System.IO.Path.GetFileName(dir), "?", null, bytes, dir, e.Message));
            }
        }
        return entries;
    }

    public bool Remove(string name)
    {
        if (!IsValidName(name) || !Directory.Exists(PathOf(name)))
            return false;
        Directory.Delete(PathOf(name), recursive: true);
        return true;
    }

    /// <summary>A model name is one path segment (no separators, no leading dot).</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && !name.StartsWith('.') && name.IndexOfAny(['/', '\\']) < 0 && name != "..";
}
