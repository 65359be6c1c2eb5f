using System.Collections.Concurrent;

namespace Glimpse.Indexing;

/// <summary>
/// Reuses the pipeline's tensor buffers (600 KB each at 224 px: large-object-heap sized). A private,
/// bounded pool rather than <c>ArrayPool.Shared</c>, whose per-thread caches grow with the thread
/// pool over a long run: at most <see cref="Capacity"/> idle buffers are kept, as many as the
/// channels can hold in flight, so memory stays flat however many images pass through.
/// </summary>
internal sealed class TensorPool(int length, int capacity)
{
    readonly ConcurrentQueue<float[]> _free = new();

    public int Length { get; } = length;
    public int Capacity { get; } = capacity;

    public float[] Rent() => _free.TryDequeue(out float[]? buffer) ? buffer : new float[Length];

    public void Return(float[] buffer)
    {
        if (buffer.Length == Length && _free.Count < Capacity)
            _free.Enqueue(buffer);
    }
}
