using System.Threading.Channels;
using Glimpse.Catalog;
using Glimpse.Models;

namespace Glimpse.Indexing;

/// <summary>
/// The pipeline's encode stage: gathers prepared images into batches (running a partial batch
/// when no more come for a moment), encodes them on the one shared session and hands each batch,
/// with the images that failed or reused a vector, to the commit stage.
/// </summary>
internal sealed class EncodeStage(ClipImageEncoder encoder, int batchSize, int tensorLength, TensorPool tensors)
{
    readonly ClipImageEncoder _encoder = encoder;
    readonly int _batchSize = batchSize;
    readonly int _tensorLength = tensorLength;
    readonly TensorPool _tensors = tensors;

    /// <summary>
    /// How long the encoder waits for more images before running a partial batch. Short enough
    /// that the tail of a run is not held back, long enough that full batches are the rule.
    /// </summary>
    static readonly TimeSpan PartialBatchWait = TimeSpan.FromMilliseconds(250);

    public async Task RunAsync(ChannelReader<PreparedImage> reader, ChannelWriter<EncodedBatch> writer, CancellationToken fatal)
    {
        int per = _tensorLength;
        int size = _batchSize;
        float[] batch = new float[size * per];
        var images = new List<PreparedImage>(size);
        var reused = new List<EmbeddedImage>();
        var failures = new List<FailedImage>();
        while (true)
        {
            PreparedImage? next = await ReadWithin(reader, images.Count + failures.Count + reused.Count > 0 ? PartialBatchWait : null, fatal).ConfigureAwait(false);
            if (next is null)
            {
                if (reader.Completion.IsCompleted)
                    break;
                await FlushAsync().ConfigureAwait(false); // idle: run the partial batch
                continue;
            }

            if (next.Failure is not null)
            {
                failures.Add(next.Failure);
            }
            else if (next.Reused is not null)
            {
                reused.Add(new EmbeddedImage(next.Image.Id, next.Reused, next.ContentHash));
            }
            else
            {
                next.Tensor.AsSpan(0, per).CopyTo(batch.AsSpan(images.Count * per, per));
                _tensors.Return(next.Tensor!);
                images.Add(next);
            }
            if (images.Count == size || failures.Count + reused.Count >= size)
                await FlushAsync().ConfigureAwait(false);
        }
        await FlushAsync().ConfigureAwait(false);

        async Task FlushAsync()
        {
            if (images.Count == 0 && failures.Count == 0 && reused.Count == 0)
                return;
            var done = new List<EmbeddedImage>(images.Count + reused.Count);
            done.AddRange(reused);
            if (images.Count > 0)
            {
                float[] vectors = _encoder.Encode(batch, images.Count);
                int dim = _encoder.Dimension;
                for (int i = 0; i < images.Count; i++)
                    done.Add(new EmbeddedImage(images[i].Image.Id, vectors.AsSpan(i * dim, dim).ToArray(), images[i].ContentHash));
            }
            await writer.WriteAsync(new EncodedBatch(done, failures.ToList(), reused.Count), fatal).ConfigureAwait(false);
            images.Clear();
            reused.Clear();
            failures.Clear();
        }
    }

    /// <summary>The next item, or null when the channel is finished or <paramref name="wait"/> passed first.</summary>
    static async Task<PreparedImage?> ReadWithin(ChannelReader<PreparedImage> reader, TimeSpan? wait, CancellationToken fatal)
    {
        if (reader.TryRead(out PreparedImage? item))
            return item;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(fatal);
        if (wait is { } w)
            timeout.CancelAfter(w);
        try
        {
            while (await reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false))
                if (reader.TryRead(out item))
                    return item;
            return null;
        }
        catch (OperationCanceledException) when (!fatal.IsCancellationRequested)
        {
            return null;
        }
    }
}
