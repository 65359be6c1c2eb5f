using Glimpse.Imaging;

namespace Glimpse.Indexing;

/// <summary>How <see cref="IndexingPipeline"/> runs.</summary>
public sealed record IndexingOptions
{
    /// <summary>Images per inference call and per catalog commit. The default is 32.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Threads decoding and preprocessing images: <see cref="DefaultDecodeWorkers"/> unless given.</summary>
    public int DecodeWorkers { get; init; } = DefaultDecodeWorkers;

    /// <summary>
    /// One per core and one more: a decoder waits now and then (a file read, a claim behind a
    /// commit's fsync), and when decoding is the bottleneck (an int8 model) the spare keeps the
    /// cores busy. Measured on 2 cores with the int8 ViT-B/32 shape: 2 decoders 35.7 images/s,
    /// 3: 40.0, 4: 39.4; with the float model 2 and 4 decoders did the same (README).
    /// </summary>
    public static int DefaultDecodeWorkers => Environment.ProcessorCount + 1;

    /// <summary>
    /// Batches encoded at once on the one shared session. 0 (the default) takes the encoder's
    /// <see cref="Models.ClipImageEncoder.ConcurrentBatches"/>: its layout's calls for a model that
    /// batches; one for a batch-1 model, whose single-threaded calls (one per core) run inside each
    /// batch. Each batch in flight holds one batch of tensors.
    /// </summary>
    public int EncodeWorkers { get; init; }

    /// <summary>
    /// A file whose modification time is more recent than this is left for a later pass: it may
    /// still be being written or copied, and half a photo must never become a vector. Zero (the
    /// default for <c>index</c>) takes every file as it is; <c>watch</c> waits 10 s.
    /// </summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Scan only these folders (null: the whole library). A partial scan registers what it finds
    /// and never marks anything gone: it has not seen the rest (a watch runs a full pass for that).
    /// </summary>
    public IReadOnlyCollection<ScanFolder>? ScanOnly { get; init; }

    /// <summary>
    /// Batches claimed ahead of the model, so it never waits on one slow file. Each batch of
    /// 224² tensors in flight holds about 19 MB. The default is 3.
    /// </summary>
    public int LookaheadBatches { get; init; } = 3;

    /// <summary>
    /// How long a claim stays with this process without renewal. A process that dies leaves its
    /// claims to others after this long (claims of a dead process on this machine are freed at
    /// once). Renewed every third of it while the process lives. The default is 2 minutes.
    /// </summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Set failed images back to pending before starting. The default is false: failures are not retried until the file changes.</summary>
    public bool RetryFailed { get; init; }

    /// <summary>
    /// Let a scan mark a whole folder of images (or the whole library) missing at once. Off by
    /// default, so an unmounted drive does not look like deleting everything.
    /// </summary>
    public bool AllowMassDelete { get; init; }

    /// <summary>
    /// Follow symbolic links whose target lies outside the library root. Off by default: such links
    /// are counted ("link outside the library") and left out, and serve never hands out a file
    /// outside the root.
    /// </summary>
    public bool FollowLinksOutside { get; init; }

    public DecodeOptions Decode { get; init; } = DecodeOptions.Default;
}
