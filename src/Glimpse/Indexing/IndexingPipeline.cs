using System.Threading.Channels;
using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Models;

namespace Glimpse.Indexing;

/// <summary>
/// Scan → register → claim → read + decode + preprocess (all cores) → batched inference (one
/// shared session, spread over the cores as the encoder's layout says) → commit, linked by bounded channels so memory stays flat and stages overlap.
/// </summary>
/// <remarks>
/// Crash safety comes from the catalog: an image is only "done" in the same transaction that
/// stores its vector, and work is handed out as expiring leases. Stopping (the token) ends
/// claiming and decoding; what is already decoded is still encoded and committed, and claims
/// not finished are given back so the next run starts on them at once.
/// </remarks>
public sealed class IndexingPipeline
{
    /// <summary>Files registered per catalog transaction during the scan.</summary>
    const int RegisterChunk = 1000;

    /// <summary>How often an idle claimer asks again while other workers still hold leases.</summary>
    static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(500);

    readonly ICatalog _catalog;
    readonly ClipImageEncoder _encoder;
    readonly ClipPreprocessor _preprocessor;
    readonly IndexingOptions _options;
    readonly Action<string> _warn;
    readonly TensorPool _tensors;
    readonly DecodeStage _decode;
    readonly EncodeStage _encode;

    /// <summary>Inference calls run at once: the options' count, else the encoder's layout.</summary>
    readonly int _encoders;

    /// <summary>Images claimed by this run and not yet committed (or dropped): zero means nothing is in hand.</summary>
    long _inHand;

    public IndexingPipeline(ICatalog catalog, ClipImageEncoder encoder, IndexingOptions options, Action<string>? warn = null)
    {
        _catalog = catalog;
        _encoder = encoder;
        _options = options;
        _preprocessor = new ClipPreprocessor(encoder.Folder.Preprocess, options.Decode);
        _warn = warn ?? (_ => { });
        // Enough idle buffers for every decoded image the channels and workers can hold at once.
        _encoders = options.EncodeWorkers > 0 ? options.EncodeWorkers : encoder.ConcurrentBatches;
        _tensors = new TensorPool(_preprocessor.TensorLength,
            options.BatchSize * (_encoders + 1) + Math.Max(1, options.DecodeWorkers));
        _decode = new DecodeStage(catalog, encoder.Dimension, _preprocessor, _tensors);
        _encode = new EncodeStage(encoder, options.BatchSize, _preprocessor.TensorLength, _tensors);
    }

    public IndexProgress Progress { get; } = new();

    /// <summary>What this run's scan left out (not images Glimpse reads); none until a scan completes.</summary>
    public SkippedFiles Skipped { get; private set; } = SkippedFiles.None;

    /// <summary>The name this process's leases carry.</summary>
    public string Owner { get; init; } = WorkerIdentity.Current;

    /// <summary>Indexes <paramref name="root"/> until no unfinished image is left or <paramref name="stop"/> is signalled.</summary>
    /// <param name="excludedDir">A folder under the root never to scan (the catalog's own).</param>
    public async Task<IndexRunSummary> RunAsync(string root, string? excludedDir, CancellationToken stop)
    {
        _catalog.BindModel(_encoder.Identity);
        ReleaseAbandonedClaims();
        if (_options.RetryFailed)
            _catalog.ResetFailed();
        Progress.SetLeft(_catalog.GetStats().Left);

        int batch = _options.BatchSize;
        var claims = Channel.CreateBounded<ClaimedImage>(new BoundedChannelOptions(batch * _options.LookaheadBatches) { SingleWriter = true });
        int encoders = _encoders;
        var prepared = Channel.CreateBounded<PreparedImage>(new BoundedChannelOptions(batch * (encoders + 1)) { SingleReader = encoders == 1 });
        var encoded = Channel.CreateBounded<EncodedBatch>(new BoundedChannelOptions(encoders + 1) { SingleReader = true, SingleWriter = encoders == 1 });

        // 'fatal' stops everything at once (an exception somewhere); 'stopping' is the user's stop
        // plus fatal, and only ends the stages that take new work.
        using var fatal = new CancellationTokenSource();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stop, fatal.Token);
        using var heartbeatStop = new CancellationTokenSource();

        Task scan = Task.Run(() => ScanAndRegister(root, excludedDir, stopping.Token));
        var stages = new List<Task>
        {
            Task.Run(() => ClaimLoopAsync(scan, claims.Writer, stopping.Token)),
        };
        var decoders = Enumerable.Range(0, Math.Max(1, _options.DecodeWorkers))
            .Select(_ => Task.Run(() => _decode.RunAsync(root, claims.Reader, prepared.Writer, stopping.Token, fatal.Token)))
            .ToArray();
        stages.AddRange(decoders);
        stages.Add(Task.WhenAll(decoders).ContinueWith(_ => prepared.Writer.TryComplete(), TaskScheduler.Default));
        var encodeLoops = Enumerable.Range(0, encoders)
            .Select(_ => Task.Run(() => _encode.RunAsync(prepared.Reader, encoded.Writer, fatal.Token)))
            .ToArray();
        stages.AddRange(encodeLoops);
        stages.Add(Task.WhenAll(encodeLoops).ContinueWith(_ => encoded.Writer.TryComplete(), TaskScheduler.Default));
        stages.Add(Task.Run(() => CommitLoopAsync(encoded.Reader, fatal.Token)));
        var leases = new LeaseHeartbeat(_catalog, Owner, _options.Lease);
        Task heartbeat = Task.Run(() => leases.RunAsync(fatal, heartbeatStop.Token));

        try
        {
            await WhenAllOrFirstFault(stages.Append(scan).ToList(), fatal).ConfigureAwait(false);
            if (leases.Failure is { } failure)
                throw failure; // the stages stopped because this run could no longer keep its claims
        }
        finally
        {
            heartbeatStop.Cancel();
            await heartbeat.ConfigureAwait(false);
            _catalog.ReleaseClaims(Owner);
        }

        long left = _catalog.GetStats().Left;
        Progress.SetLeft(left);
        return new IndexRunSummary(Progress.Done, Progress.Failed, left, stop.IsCancellationRequested, Progress.Reused, Progress.Missing) { Skipped = Skipped };
    }

    /// <summary>Waits for every stage; the first one to fail cancels the rest, and its exception is thrown.</summary>
    static async Task WhenAllOrFirstFault(List<Task> tasks, CancellationTokenSource fatal)
    {
        var remaining = new List<Task>(tasks);
        Exception? first = null;
        while (remaining.Count > 0)
        {
            Task finished = await Task.WhenAny(remaining).ConfigureAwait(false);
            remaining.Remove(finished);
            if (finished.IsFaulted && first is null)
            {
                first = finished.Exception!.GetBaseException();
                fatal.Cancel();
            }
        }
        if (first is not null)
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(first);
    }

    void ScanAndRegister(string root, string? excludedDir, CancellationToken token)
    {
        try
        {
            var scanner = new FileScanner(root, excludedDir, _warn, _options.FollowLinksOutside);
            var chunk = new List<ScannedFile>(RegisterChunk);
            _catalog.BeginScan();
            foreach (ScannedFile file in scanner.Scan(token))
            {
                chunk.Add(file);
                if (chunk.Count == RegisterChunk)
                    Flush();
            }
            Flush();

            // Only a scan that saw the whole tree may say what is gone, or what it left out.
            Skipped = scanner.Skipped;
            if (!Skipped.Equals(_catalog.ReadSkipped()))
                _catalog.RecordSkipped(Skipped); // an unchanged rescan writes nothing

            ScanCompletion completion = _catalog.CompleteScan(scanner.UnreadableFolders, _options.AllowMassDelete);
            if (completion.NotCheckedBecause is { } why)
                _warn($"gone files were not looked for this time: {why}. The next complete scan does it.");
            if (completion.NewlyMissing > 0)
            {
                Progress.AddMissing(completion.NewlyMissing);
                _warn($"{completion.NewlyMissing} indexed images are gone from the folder: marked missing ('glimpse prune' removes them).");
            }

            void Flush()
            {
                RegisterResult r = _catalog.Register(chunk);
                Progress.AddFound(chunk.Count, r.NewOrChanged);
                chunk.Clear();
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            Progress.MarkScanComplete();
        }
    }

    async Task ClaimLoopAsync(Task scan, ChannelWriter<ClaimedImage> writer, CancellationToken token)
    {
        try
        {
            while (!token.IsCancellationRequested)
            {
                IReadOnlyList<ClaimedImage> claimed = _catalog.Claim(Owner, _options.BatchSize, _options.Lease);
                Interlocked.Add(ref _inHand, claimed.Count);
                if (claimed.Count > 0)
                {
                    foreach (var image in claimed)
                        await writer.WriteAsync(image, token).ConfigureAwait(false);
                    continue;
                }

                if (scan.IsCompleted)
                {
                    // Nothing claimable. Done when nothing is unfinished; otherwise our own batches
                    // are still in flight, or other workers hold leases that may yet expire.
                    ReleaseAbandonedClaims();
                    if (!_catalog.HasUnfinished())
                        break;
                }
                await Task.Delay(scan.IsCompleted ? IdlePoll : TimeSpan.FromMilliseconds(100), token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Reads, decodes and preprocesses one claimed image (tests call it directly).</summary>
    internal PreparedImage Prepare(string root, ClaimedImage image) => _decode.Prepare(root, image);

    async Task CommitLoopAsync(ChannelReader<EncodedBatch> reader, CancellationToken fatal)
    {
        await foreach (EncodedBatch batch in reader.ReadAllAsync(fatal).ConfigureAwait(false))
        {
            CommitResult result = _catalog.Commit(Owner, batch.Done, batch.Failed);
            Interlocked.Add(ref _inHand, -(batch.Done.Count + batch.Failed.Count));
            Progress.AddCommitted(result.Done, result.Failed);
            Progress.AddReused(Math.Min(batch.Reused, result.Done));
            if (result.Rejected > 0)
                _warn($"{result.Rejected} images were taken over by another worker after this one's lease ran out; their results were dropped.");
        }
    }

    /// <summary>
    /// Gives back claims no live worker will finish: those of dead processes of this machine and
    /// pid namespace, and, when this run holds nothing, those in this worker's own name. A claim
    /// whose reply was lost with the connection leased rows that never arrived; the heartbeat would
    /// renew them forever, and the run would wait for them forever.
    /// </summary>
    void ReleaseAbandonedClaims()
    {
        bool nothingInHand = Interlocked.Read(ref _inHand) == 0;
        foreach (string owner in _catalog.ListLeaseOwners())
        {
            if (owner != Owner)
            {
                if (WorkerIdentity.IsDeadLocalOwner(owner))
                    _catalog.ReleaseClaims(owner);
            }
            else if (nothingInHand && _catalog.ReleaseClaims(Owner) is var released and > 0)
                _warn($"{released} images leased in this worker's name were not in hand (a claim's reply was lost); released them.");
        }
    }

}
