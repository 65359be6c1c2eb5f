using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Cli.Terminal;
using Glimpse.Models;

namespace Glimpse.Cli;

/// <summary>
/// Turns <c>--model</c> into a model folder: a folder path, or a model name in the per-user cache,
/// downloaded on first use unless offline. Without <c>--model</c>, the default model.
/// </summary>
internal static class ModelResolver
{
    public static bool IsOffline(bool flag) => flag || Environment.GetEnvironmentVariable("GLIMPSE_OFFLINE") == "1";

    public static async Task<string> ResolveAsync(CliContext cli, string? model, bool offline, CancellationToken cancellationToken)
    {
        var cache = new ModelCache();
        string name = model ?? ModelCache.DefaultModel;
        if (cache.Resolve(name) is { } found)
            return found;
        if (model is not null && (model.Contains('/') || model.Contains('\\') || !ModelCache.IsValidName(model)))
            throw new ModelFolderException($"model folder {model} does not exist.");
        if (IsOffline(offline))
            throw new ModelDownloadException(
                $"model {name} is not in the cache ({cache.Root}) and offline mode forbids downloading it: pass --model DIR, or run 'glimpse models pull {name}' with network.");
        cli.Warn($"model {name} is not in {cache.Root}: downloading it once from {DownloadSource(name)}");
        return await PullAsync(cli, cache, name, cancellationToken);
    }

    /// <summary>A folder path as given, else a cached model of that name (no download): for commands that only read a folder.</summary>
    public static string ResolveLocal(string model) => new ModelCache().Resolve(model) ?? model;

    /// <summary>
    /// The model to query a catalog with: <c>--model</c>, else the folder the catalog was indexed
    /// with, else its model by name from the cache (fetched again if it was removed since).
    /// </summary>
    public static Task<string> ResolveForCatalogAsync(CliContext cli, string? given, ICatalog catalog, bool offline, CancellationToken cancellationToken)
    {
        string? recorded = catalog.Model?.Folder is { } folder && Directory.Exists(folder) ? folder : null;
        return ResolveAsync(cli, given ?? recorded ?? catalog.Model?.Name, offline, cancellationToken);
    }

    /// <summary>
    /// Opens the folder a query of <paramref name="catalog"/> will be encoded with, refusing one that
    /// is not the catalog's model: its text encoder would rank the stored vectors by another model's
    /// idea of the words. Reads the .onnx's signature and hash only; no session is loaded.
    /// </summary>
    /// <exception cref="ModelFolderException">Not a model folder, or not the catalog's model.</exception>
    public static ModelFolder OpenForCatalog(string path, ICatalog catalog)
    {
        var folder = ModelFolder.Open(path);
        if (catalog.Model is not { } stored)
            return folder;
        ModelIdentity offered = folder.ReadIdentity();
        if (!stored.IsCompatibleWith(offered))
            throw new ModelFolderException(
                $"model {folder.Path} is not the one {catalog.Location} was indexed with ('{stored.Name}', {stored.Dimension}-d, visual sha256 {stored.VisualSha256[..12]}…; " +
                $"this one is '{offered.Name}', {offered.Dimension}-d, {offered.VisualSha256[..12]}…): its queries would not match the stored vectors. " +
                "Leave --model out to use the catalog's model, or pass that model's folder.");
        return folder;
    }

    public static async Task<string> PullAsync(CliContext cli, ModelCache cache, string name, CancellationToken cancellationToken)
    {
        var downloader = new ModelDownloader(cache);
        var clock = Stopwatch.StartNew();
        TimeSpan lastDraw = TimeSpan.Zero;
        downloader.Progress += (done, total) =>
        {
            if (clock.Elapsed - lastDraw < TimeSpan.FromMilliseconds(cli.ErrIsTerminal ? 200 : 5000))
                return;
            lastDraw = clock.Elapsed;
            double rate = done / Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            string eta = total > done && rate > 0 ? ProgressDisplay.FormatDuration((total - done) / rate) : "--:--:--";
            string line = $"{done / 1e6,8:0.0} MB of {total / 1e6:0.0} MB  {rate / 1e6:0.0} MB/s  ETA {eta}";
            if (cli.ErrIsTerminal)
                cli.Err.Write($"\r{line}\u001b[K");
            else
                cli.Err.WriteLine($"glimpse: {line}");
        };
        string path = await downloader.PullAsync(name, cancellationToken);
        if (cli.ErrIsTerminal)
            cli.Err.WriteLine();
        cli.Warn($"model {name} is ready in {path}");
        return path;
    }

    static string DownloadSource(string name) =>
        $"{(Environment.GetEnvironmentVariable("GLIMPSE_HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/')}/{ModelDownloader.RepositoryOf(name)}";
}
