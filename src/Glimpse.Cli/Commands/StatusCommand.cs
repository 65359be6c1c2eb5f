using System.CommandLine;
using Glimpse.Catalog;
using Glimpse.Cli.Terminal;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse status [ROOT]</c>: totals, rate and ETA; safe beside a running index.</summary>
internal static class StatusCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("status", "Show what the catalog holds: done, pending and failed images (by reason), rate, ETA, model and size. Safe to run while indexing.")
        {
            root, catalog, json,
        };
        command.SetAction(parse =>
        {
            using ICatalog? store = cli.OpenExisting(parse.GetValue(root)!, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            CatalogStats s = store.GetStats();
            SkippedFiles skipped = store.ReadSkipped();
            var activity = Glimpse.Indexing.IndexActivity.Of(store);
            var watch = Glimpse.Indexing.WatchRecord.ReadLive(store);
            // A rate and an ETA only while an index run works: after a crash the last minutes'
            // commits would otherwise promise an end that nothing is working towards.
            double rate = activity.IsWorking ? s.RecentImagesPerSecond : 0;
            double? etaSeconds = rate > 0 ? s.Left / rate : null;
            if (parse.GetValue(json))
            {
                cli.WriteJson(new
                {
                    Catalog = store.Location,
                    s.Total, s.Done, s.Pending, activity.InProgress, activity.Abandoned, s.Failed, s.Missing,
                    Running = activity.IsWorking,
                    Watch = watch is null ? null : new { watch.Pid, watch.Host, watch.Since, watch.Root },
                    FailedByReason = s.FailedByReason.Select(f => new { f.Stage, f.Reason, f.Count }),
                    ImagesPerSecond = Math.Round(rate, 2),
                    EtaSeconds = etaSeconds is { } e ? Math.Round(e) : (double?)null,
                    Model = store.Model,
                    CatalogBytes = s.StorageBytes,
                    Skipped = skipped.Kinds,
                });
                return ExitCodes.Ok;
            }

            var o = cli.Out;
            o.WriteLine($"catalog   {store.Location} ({s.StorageBytes / 1048576.0:0.0} MB)");
            o.WriteLine(store.Model is { } m
                ? $"model     {m.Name} ({m.Dimension}-d, visual sha256 {m.VisualSha256[..12]})"
                : "model     none yet");
            o.WriteLine($"images    {s.Total} total: {s.Done} done, {s.Pending} pending, {activity.InProgress} in progress, {s.Failed} failed"
                        + (activity.Abandoned > 0 ? $", {activity.Abandoned} abandoned by a stopped run (the next run takes them)" : "")
                        + (s.Missing > 0 ? $", {s.Missing} missing" : ""));
            o.WriteLine(!activity.IsWorking
                ? "rate      no index run is working"
                : rate > 0
                    ? $"rate      {rate:0.0} images/s (last 2 min), ETA {ProgressDisplay.FormatDuration(etaSeconds!.Value)}"
                    : "rate      starting (nothing committed in the last 2 min)");
            o.WriteLine(watch is null
                ? "watch     no watcher is running"
                : $"watch     running since {watch.Since.ToLocalTime():yyyy-MM-dd HH:mm:ss} (pid {watch.Pid} on {watch.Host}), watching {watch.Root}");
            foreach (var (stage, reason, count) in s.FailedByReason)
                o.WriteLine($"failed    {count,6}  {stage}: {reason}");
            foreach (SkippedKind kind in skipped.Kinds)
                o.WriteLine($"left out  {kind.Count,6}  {kind.Kind} (not indexed), e.g. {kind.Example}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
