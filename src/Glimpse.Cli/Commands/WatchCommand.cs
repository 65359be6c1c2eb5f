using System.CommandLine;
using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Indexing;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary>
/// <c>glimpse watch ROOT</c>: keeps the index current. Each pass is an <c>index</c> run (the same
/// scan, claims, fenced commits and crash safety) that leaves alone files changed within the settle
/// time; file-system events say when to run one, and a full pass runs on a timer whatever they say.
/// </summary>
internal static class WatchCommand
{
    /// <summary>How long the events must go quiet before a pass: a burst of copies becomes one pass.</summary>
    static readonly TimeSpan Quiet = TimeSpan.FromSeconds(2);

    /// <summary>The longest a stream of events can hold a pass back.</summary>
    static readonly TimeSpan MaxHoldBack = TimeSpan.FromSeconds(30);

    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var model = CommonOptions.Model();
        var offline = CommonOptions.Offline();
        var device = CommonOptions.Device();
        var settle = new Option<double>("--settle")
        {
            Description = "Seconds a file's size and modification time must stay still before it is embedded (a file being copied or written is never embedded half-way).",
            DefaultValueFactory = _ => 10,
        };
        var rescanEvery = new Option<double>("--rescan-every")
        {
            Description = "Minutes between full rescans, the safety net for events the kernel dropped or never sent (network shares).",
            DefaultValueFactory = _ => 60,
        };
        var command = new Command("watch",
            "Keep the index of ROOT current: new, changed, moved and deleted files are handled as 'index' does, as they happen. Stop with Ctrl-C or SIGTERM.")
        {
            root, catalog, model, offline, device, settle, rescanEvery,
        };
        command.SetAction(async (parse, token) =>
        {
            CatalogAddress address = CliContext.Address(parse.GetValue(root)!, parse.GetValue(catalog));
            string rootPath = Path.GetFullPath(CliContext.LibraryRoot(parse.GetValue(root)!, address, null));
            if (!Directory.Exists(rootPath))
            {
                cli.Warn($"library folder {rootPath} does not exist or is not reachable.");
                return ExitCodes.Usage;
            }
            if (parse.GetValue(settle) < 0 || parse.GetValue(rescanEvery) <= 0)
            {
                cli.Warn("--settle must be 0 or more seconds and --rescan-every more than 0 minutes.");
                return ExitCodes.Usage;
            }
            string modelPath = await ModelResolver.ResolveAsync(cli, parse.GetValue(model), parse.GetValue(offline), cli.Stop.Token);
            return await WatchAsync(cli, address, rootPath, modelPath, parse.GetValue(device),
                TimeSpan.FromSeconds(parse.GetValue(settle)), TimeSpan.FromMinutes(parse.GetValue(rescanEvery)), cli.Stop.Token);
        });
        return command;
    }

    /// <summary>Keeps <paramref name="rootPath"/>'s catalog current until <paramref name="stop"/>: <c>watch</c>, and <c>serve --watch</c> beside its server.</summary>
    internal static async Task<int> WatchAsync(CliContext cli, CatalogAddress address, string rootPath, string modelPath, string? device,
        TimeSpan settle, TimeSpan rescanEvery, CancellationToken stop)
    {
        var folder = ModelFolder.Open(modelPath);
        ExecutionDevice runOn = CommonOptions.ResolveDevice(cli, device);
        using var encoder = IndexCommand.OpenEncoder(cli, folder, 0, 0, runOn, recalibrate: false, stop);
        using var store = address.Open(cli.Warn, stop);
        var options = IndexCommand.FitTo(new IndexingOptions { SettleTime = settle }, encoder);
        string? excluded = address.SqlitePath is { } file ? Path.GetDirectoryName(file) : null;
        var loop = new Loop(cli, store, encoder, options, rootPath, excluded, address.SqlitePath, rescanEvery);
        return await loop.RunAsync(stop);
    }

    sealed class Loop(CliContext cli, ICatalog store, ClipImageEncoder encoder, IndexingOptions options, string root, string? excluded, string? catalogFile,
        TimeSpan rescanEvery)
    {
        public async Task<int> RunAsync(CancellationToken stop)
        {
            using var watcher = LibraryWatcher.Start(root, catalogFile);
            if (watcher.Problem is { } problem)
                cli.Warn($"{problem}: rescanning every {rescanEvery.TotalMinutes:0.#} min instead of on events.");
            new WatchRecord(Environment.ProcessId, Environment.MachineName, DateTimeOffset.UtcNow, root).Write(store);
            try
            {
                cli.Warn($"watching {root} (settle {options.SettleTime.TotalSeconds:0.#} s, full rescan every {rescanEvery.TotalMinutes:0.#} min); Ctrl-C stops.");
                DateTime lastFull = DateTime.UtcNow;
                IReadOnlyCollection<ScanFolder>? scope = null; // what the last pass walked (null: everything)
                IndexRunSummary summary = await PassAsync(watcher, "start", scope, stop);
                bool knownProblem = watcher.Problem is not null;
                while (!stop.IsCancellationRequested && !summary.Stopped)
                {
                    string? why = await WaitForReasonAsync(watcher, summary, lastFull, stop);
                    if (why is null)
                        break;
                    if (!knownProblem && watcher.Problem is { } late)
                    {
                        cli.Warn($"{late}: events are no longer complete; rescanning now and every {rescanEvery.TotalMinutes:0.#} min.");
                        knownProblem = true;
                    }
                    // Events name folders: a pass walks just those, unless something went away or events
                    // were lost (then the whole tree). A settle re-pass walks what the last one did.
                    IReadOnlyCollection<ScanFolder>? folders = watcher.TakeFolders();
                    scope = why switch
                    {
                        "changes" => folders,
                        "settled" => scope is null || folders is null ? null : [.. scope, .. folders],
                        _ => null,
                    };
                    if (scope is null)
                        lastFull = DateTime.UtcNow;
                    summary = await PassAsync(watcher, why, scope, stop);
                }
                return cli.Stop.ExitCode ?? ExitCodes.Interrupted;
            }
            finally
            {
                WatchRecord.Remove(store);
            }
        }

        /// <summary>What the next pass is for, once one is due; null when stopped.</summary>
        async Task<string?> WaitForReasonAsync(LibraryWatcher watcher, IndexRunSummary last, DateTime lastFull, CancellationToken stop)
        {
            // Files held back are looked at again once they can have settled.
            DateTime settleDue = last.Settling > 0 ? DateTime.UtcNow + options.SettleTime + TimeSpan.FromMilliseconds(500) : DateTime.MaxValue;
            DateTime firstChangeSeen = DateTime.MaxValue;
            while (!stop.IsCancellationRequested)
            {
                DateTime now = DateTime.UtcNow;
                if (watcher.TakeOverflow())
                {
                    cli.Warn("the file-system events overflowed (too many changes at once): rescanning the whole library now.");
                    return "overflow";
                }
                if (watcher.HasChanges)
                {
                    if (firstChangeSeen == DateTime.MaxValue)
                        firstChangeSeen = now;
                    if (now - watcher.LastChange >= Quiet || now - firstChangeSeen >= MaxHoldBack)
                        return "changes";
                }
                if (now >= settleDue)
                    return "settled";
                if (now - lastFull >= rescanEvery)
                    return "rescan";
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(250), stop);
                }
                catch (OperationCanceledException)
                {
                    return null;
                }
            }
            return null;
        }

        async Task<IndexRunSummary> PassAsync(LibraryWatcher watcher, string why, IReadOnlyCollection<ScanFolder>? scope, CancellationToken stop)
        {
            watcher.TakeChanges();
            if (scope is null)
                watcher.TakeFolders(); // a full pass sees whatever they named
            var pipeline = new IndexingPipeline(store, encoder, options with { ScanOnly = scope }, cli.Warn);
            IndexRunSummary s = await pipeline.RunAsync(root, excluded, stop);
            if (!s.Stopped && s.Done > 0 && Glimpse.Search.AnnIndex.IsUsable(store))
                Glimpse.Search.AnnIndex.Update(store);
            if (s.Done + s.Failed + s.Missing > 0 || why == "start")
                cli.Out.WriteLine($"{DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss} {why} ({(scope is null ? "whole library" : $"{scope.Count} folder{(scope.Count == 1 ? "" : "s")}")}): embedded {s.Done}" +
                    (s.Reused > 0 ? $" ({s.Reused} moved or copied: vector reused)" : "") +
                    $", {s.Failed} failed, {s.Missing} gone, {s.Left} left" + (s.Settling > 0 ? $", {s.Settling} still settling" : ""));
            cli.Out.Flush();
            return s;
        }
    }
}
