using Glimpse.Catalog;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>
/// The process's one ONNX Runtime session of a CLIP visual encoder. Input and output names, the
/// batch axis (dynamic, or fixed as Immich's exporter writes it today), the input size and the
/// embedding dimension are read from the .onnx file, not assumed. <see cref="Encode"/> is
/// thread-safe (ONNX Runtime sessions allow concurrent runs); <see cref="Layout"/> says how many
/// calls should run at once.
/// </summary>
public sealed class ClipImageEncoder : IDisposable
{
    readonly InferenceSession _session;
    readonly VisualModelSignature _signature;

    /// <param name="intraOpThreads">ONNX Runtime threads per call; 0 chooses from the model's batch axis.</param>
    /// <param name="concurrentCalls">Inference calls meant to run at once; 0 chooses.</param>
    /// <param name="device">Where the model runs (the CPU when null).</param>
    public ClipImageEncoder(ModelFolder folder, int intraOpThreads = 0, int concurrentCalls = 0, ExecutionDevice? device = null)
        : this(folder, VisualModelSignature.Read(folder), null, intraOpThreads, concurrentCalls, device)
    {
    }

    /// <summary>
    /// An encoder that runs as <paramref name="layout"/> says (a measured one, <see cref="LayoutCalibration"/>),
    /// on <paramref name="device"/> (the CPU when null).
    /// </summary>
    public ClipImageEncoder(ModelFolder folder, InferenceLayout layout, ExecutionDevice? device = null)
        : this(folder, VisualModelSignature.Read(folder), layout, 0, 0, device)
    {
    }

    ClipImageEncoder(ModelFolder folder, VisualModelSignature signature, InferenceLayout? layout, int intraOpThreads, int concurrentCalls,
        ExecutionDevice? device = null)
    {
        Folder = folder;
        Device = device ?? ExecutionDevice.Cpu;
        _signature = signature;
        Layout = layout is null
            ? InferenceLayout.Choose(_signature.FixedBatch, intraOpThreads, concurrentCalls)
            // A fixed batch axis decides the run size, whatever was measured.
            : layout with { RunSize = _signature.FixedBatch ?? layout.RunSize };
        _session = OnnxSession.Open(_signature.File, Layout.ThreadsPerCall, Device);
        Identity = _signature.Identity;
    }

    public ModelFolder Folder { get; }

    /// <summary>Where the model runs.</summary>
    public ExecutionDevice Device { get; }
    public int Dimension => _signature.Dimension;
    public ModelIdentity Identity { get; }

    /// <summary>The model's fixed batch size, or null when its batch axis is dynamic.</summary>
    public int? FixedBatch => _signature.FixedBatch;

    /// <summary>How many inference calls run at once, with how many threads and images each.</summary>
    public InferenceLayout Layout { get; }

    /// <summary>
    /// How many <see cref="Encode"/> calls a caller should keep running at once: one when a batch
    /// is cut into runs (a fixed-batch model, or a measured run size), whose calls spread over the
    /// layout themselves, so a batch's images use every core and no call is left alone at the end
    /// of a run; else the layout's calls, each with a whole batch.
    /// </summary>
    public int ConcurrentBatches => FixedBatch is null && Layout.RunSize == 0 ? Layout.Calls : 1;

    /// <summary>
    /// Encodes <paramref name="count"/> preprocessed images laid out back to back in
    /// <paramref name="tensors"/> (CHW each) and returns their L2-normalised embeddings, row-major.
    /// A model with a fixed batch runs them in runs of that size (the last one padded), a dynamic
    /// one in runs of the layout's run size; up to <see cref="InferenceLayout.Calls"/> runs at once.
    /// </summary>
    public float[] Encode(Memory<float> tensors, int count) => Encode(tensors, count, Layout);

    /// <summary>As <see cref="Encode(Memory{float}, int)"/>, with another layout's calls and run size on this session's threads (a calibration's trial).</summary>
    internal float[] Encode(Memory<float> tensors, int count, InferenceLayout layout)
    {
        int per = Folder.Preprocess.TensorLength;
        if (tensors.Length < count * per)
            throw new ArgumentException($"{count} images need {count * per} floats; got {tensors.Length}.", nameof(tensors));

        var vectors = new float[count * Dimension];
        int run = FixedBatch ?? (layout.RunSize > 0 ? Math.Min(layout.RunSize, Math.Max(count, 1)) : Math.Max(count, 1));
        int runs = (count + run - 1) / run;
        void EncodeRun(int r)
        {
            int first = r * run, n = Math.Min(run, count - first);
            Memory<float> input = tensors.Slice(first * per, n * per);
            if (n < run && FixedBatch is not null)
            {
                // A fixed batch takes exactly that many images: the rest of the run is zeros.
                var padded = new float[run * per];
                input.Span.CopyTo(padded);
                input = padded;
            }
            RunOnce(input, FixedBatch ?? n, n, vectors.AsSpan(first * Dimension, n * Dimension));
        }
        if (runs > 1 && layout.Calls > 1)
            Parallel.For(0, runs, new ParallelOptions { MaxDegreeOfParallelism = layout.Calls }, EncodeRun);
        else
            for (int r = 0; r < runs; r++)
                EncodeRun(r);

        for (int i = 0; i < count; i++)
            NormalizeInPlace(vectors.AsSpan(i * Dimension, Dimension));
        return vectors;
    }

    void RunOnce(Memory<float> input, int batch, int used, Span<float> destination)
    {
        var (h, w) = (Folder.Preprocess.Height, Folder.Preprocess.Width);
        using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, [batch, 3, h, w]);
        using var runOptions = new RunOptions();
        using IDisposableReadOnlyCollection<OrtValue> outputs = _session.Run(runOptions, [_signature.Input], [value], [_signature.Output]);
        ReadOnlySpan<float> raw = outputs[0].GetTensorDataAsSpan<float>();
        if (raw.Length != batch * Dimension)
            throw new InvalidOperationException($"The visual model returned {raw.Length} values for {batch} images of dimension {Dimension}.");
        raw[..(used * Dimension)].CopyTo(destination);
    }

    /// <summary>Scales <paramref name="vector"/> to unit length (a zero vector stays zero).</summary>
    public static void NormalizeInPlace(Span<float> vector)
    {
        float norm = TensorPrimitives.Norm(vector);
        if (norm > 0 && float.IsFinite(norm))
            TensorPrimitives.Divide(vector, norm, vector);
    }

    public void Dispose() => _session.Dispose();
}
