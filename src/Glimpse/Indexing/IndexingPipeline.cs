using System.Threading.Channels;
using Glimpse.Catalog;
using Glimpse.Imaging;
using Glimpse.Models;

namespace Glimpse.Indexing;

/// <summary>
/// Scan → register → claim → read + decode + preprocess (all cores) → batched inference (one
/// shared session, spread over the cores as the encoder's layout says) → commit, each stage a
/// type of its own, linked by bounded channels so memory stays flat and stages overlap; a lease
/// heartbeat runs beside them.
/// </summary>
/// <remarks>
/// Crash safety comes from the catalog: an image is only "done" in the same transaction that
/// stores its vector, and work is handed out as expiring leases. Stopping (the token) ends
/// claiming and decoding; what is already decoded is still encoded and committed, and claims
/// not finished are given back so the next run starts on them at once.
/// </remarks>
public sealed class IndexingPipeline
{
    readonly ICatalog _catalog;
    readonly ClipImageEncoder _encoder;
    readonly IndexingOptions _options;
    readonly Action<string> _warn;
    readonly DecodeStage _decode;
    readonly EncodeStage _encode;

    /// <summary>Inference calls run at once: the options' count, else the encoder's layout.</summary>
    readonly int _encoders;

    public IndexingPipeline(ICatalog catalog, ClipImageEncoder encoder, IndexingOptions options, Action<string>? warn = null)
    {
        _catalog = catalog;
        _encoder = encoder;
        _options = options;
        var preprocessor = new ClipPreprocessor(encoder.Folder.Preprocess, options.Decode);
        _warn = warn ?? (_ => { });
        _encoders = options.EncodeWorkers > 0 ? options.EncodeWorkers : encoder.ConcurrentBatches;
        // Enough idle buffers for every decoded image the channels and workers can hold at once.
        var tensors = new TensorPool(preprocessor.TensorLength,
            options.BatchSize * (_encoders + 1) + Math.Max(1, options.DecodeWorkers));
        _decode = new DecodeStage(catalog, encoder.Dimension, preprocessor, tensors);
        _encode = new EncodeStage(encoder, options.BatchSize, preprocessor.TensorLength, tensors);
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
        var scanner = new ScanStage(_catalog, _options, Progress, _warn);
        var claimer = new ClaimStage(_catalog, Owner, _options, _warn);
        var committer = new CommitStage(_catalog, Owner, claimer, Progress, _warn);
        var leases = new LeaseHeartbeat(_catalog, Owner, _options.Lease);

        _catalog.BindModel(_encoder.Identity);
        claimer.ReleaseAbandoned();
        if (_options.RetryFailed)
            _catalog.ResetFailed();
        Progress.SetLeft(_catalog.GetStats().Left);

        int batch = _options.BatchSize;
        int encoders = _encoders;
        var claims = Channel.CreateBounded<ClaimedImage>(new BoundedChannelOptions(batch * _options.LookaheadBatches) { SingleWriter = true });
        var prepared = Channel.CreateBounded<PreparedImage>(new BoundedChannelOptions(batch * (encoders + 1)) { SingleReader = encoders == 1 });
        var encoded = Channel.CreateBounded<EncodedBatch>(new BoundedChannelOptions(encoders + 1) { SingleReader = true, SingleWriter = encoders == 1 });

        // 'fatal' stops everything at once (an exception somewhere); 'stopping' is the user's stop
        // plus fatal, and only ends the stages that take new work.
        using var fatal = new CancellationTokenSource();
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(stop, fatal.Token);
        using var heartbeatStop = new CancellationTokenSource();

        Task scan = Task.Run(() => scanner.Run(root, excludedDir, stopping.Token));
        var stages = new List<Task> { scan, Task.Run(() => claimer.RunAsync(scan, claims.Writer, stopping.Token)) };
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
        stages.Add(Task.Run(() => committer.RunAsync(encoded.Reader, fatal.Token)));
        Task heartbeat = Task.Run(() => leases.RunAsync(fatal, heartbeatStop.Token));

        try
        {
            await WhenAllOrFirstFault(stages, fatal).ConfigureAwait(false);
            if (leases.Failure is { } failure)
                throw failure; // the stages stopped because this run could no longer keep its claims
        }
        finally
        {
            heartbeatStop.Cancel();
            await heartbeat.ConfigureAwait(false);
            _catalog.ReleaseClaims(Owner);
            Skipped = scanner.Skipped;
        }

        long left = _catalog.GetStats().Left;
        Progress.SetLeft(left);
        return new IndexRunSummary(Progress.Done, Progress.Failed, left, stop.IsCancellationRequested, Progress.Reused, Progress.Missing) { Skipped = Skipped, Settling = Progress.Settling };
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

    /// <summary>Reads, decodes and preprocesses one claimed image (tests call it directly).</summary>
    internal PreparedImage Prepare(string root, ClaimedImage image) => _decode.Prepare(root, image);
}
