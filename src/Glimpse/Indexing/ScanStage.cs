using Glimpse.Catalog;

namespace Glimpse.Indexing;

/// <summary>
/// The pipeline's first stage: walks the library and registers what it finds in chunks, so claiming
/// starts on the first chunk while the walk goes on. Only a walk that saw the whole tree ends the
/// scan: it records what was left out and marks what is gone.
/// </summary>
internal sealed class ScanStage(ICatalog catalog, IndexingOptions options, IndexProgress progress, Action<string> warn)
{
    /// <summary>Files registered per catalog transaction.</summary>
    const int RegisterChunk = 1000;

    readonly ICatalog _catalog = catalog;
    readonly IndexingOptions _options = options;
    readonly IndexProgress _progress = progress;
    readonly Action<string> _warn = warn;

    /// <summary>What the scan left out (not images Glimpse reads); none until a scan completes.</summary>
    public SkippedFiles Skipped { get; private set; } = SkippedFiles.None;

    /// <param name="excludedDir">A folder under the root never to scan (the catalog's own).</param>
    public void Run(string root, string? excludedDir, CancellationToken token)
    {
        try
        {
            var scanner = new FileScanner(root, excludedDir, _warn, _options.FollowLinksOutside);
            var chunk = new List<ScannedFile>(RegisterChunk);
            // Files changed after this instant are still settling (being written or copied).
            long settledBeforeNs = _options.SettleTime > TimeSpan.Zero
                ? (DateTimeOffset.UtcNow - _options.SettleTime).ToUnixTimeMilliseconds() * 1_000_000
                : long.MaxValue;
            long settling = 0;
            _catalog.BeginScan();
            foreach (ScannedFile file in scanner.Scan(token, _options.ScanOnly))
            {
                if (file.MtimeNs > settledBeforeNs)
                {
                    settling++; // neither registered nor changed: an indexed file being rewritten keeps its vector meanwhile
                    continue;
                }
                chunk.Add(file);
                if (chunk.Count == RegisterChunk)
                    Flush();
            }
            Flush();
            _progress.AddSettling(settling);
            // A walk that held files back has not seen the whole tree as it is: what is gone is
            // looked for by the next pass that holds none back (a settling file is not gone).
            if (settling == 0 && _options.ScanOnly is null)
                Complete(scanner);
            else
                Skipped = scanner.Skipped;

            void Flush()
            {
                RegisterResult r = _catalog.Register(chunk);
                _progress.AddFound(chunk.Count, r.NewOrChanged);
                chunk.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            _progress.MarkScanComplete();
        }
    }

    void Complete(FileScanner scanner)
    {
        Skipped = scanner.Skipped;
        if (!Skipped.Equals(_catalog.ReadSkipped()))
            _catalog.RecordSkipped(Skipped); // an unchanged rescan writes nothing

        ScanCompletion completion = _catalog.CompleteScan(scanner.UnreadableFolders, _options.AllowMassDelete);
        if (completion.NotCheckedBecause is { } why)
            _warn($"gone files were not looked for this time: {why}. The next complete scan does it.");
        if (completion.NewlyMissing > 0)
        {
            _progress.AddMissing(completion.NewlyMissing);
            _warn($"{completion.NewlyMissing} indexed images are gone from the folder: marked missing ('glimpse prune' removes them).");
        }
    }
}
