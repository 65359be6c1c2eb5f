namespace Glimpse.Tests.Support;

/// <summary>One catalogue of the fixtures and models under ../shared (GLIMPSE_SHARED overrides).</summary>
internal static class SharedFiles
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root { get; } =
        Environment.GetEnvironmentVariable("GLIMPSE_SHARED") is { Length: > 0 } env
            ? env
            : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    public static string Models => Path.Combine(Root, "models");
    public static string TinyImmich => Path.Combine(Models, "tiny-immich");
    public static string TinyHf => Path.Combine(Models, "tiny-hf");
    public static string Tiny256Hf => Path.Combine(Models, "tiny-256-768-hf");
    public static string ProbeImmich => Path.Combine(Models, "probe-immich");
    public static string TinyImmichStatic => Path.Combine(Models, "tiny-immich-static");
    public static string TinyImmichLegacy => Path.Combine(Models, "tiny-immich-legacy");
    public static string TinyImmichExternalData => Path.Combine(Models, "tiny-immich-external-data");
    public static string PreprocessFixtures => Path.Combine(Root, "fixtures", "preprocess");
    public static string MalformedFixtures => Path.Combine(Root, "fixtures", "malformed");

    /// <summary>The preprocess fixture images, by name (00.jpg ... 15.png).</summary>
    public static IEnumerable<string> PreprocessImages() =>
        Directory.EnumerateFiles(PreprocessFixtures)
            .Where(p => !p.EndsWith(".npy") && !p.EndsWith(".json") && !p.EndsWith(".md"))
            .Order(StringComparer.Ordinal);

    static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Glimpse.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (Glimpse.slnx) above the test binaries.");
    }
}
