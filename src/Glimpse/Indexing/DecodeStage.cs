using System.Threading.Channels;
using Glimpse.Catalog;
using Glimpse.Imaging;

namespace Glimpse.Indexing;

/// <summary>
/// The pipeline's decode stage, one loop per decode worker: reads each claimed file, reuses the
/// vector of content the catalog already has (a moved or copied file), else decodes and
/// preprocesses it into a pooled tensor. A file that cannot be read or decoded becomes a failed
/// image with its reason; anything else is a bug and stops the run.
/// </summary>
internal sealed class DecodeStage(ICatalog catalog, int dimension, ClipPreprocessor preprocessor, TensorPool tensors)
{
    readonly ICatalog _catalog = catalog;
    readonly int _dimension = dimension;
    readonly ClipPreprocessor _preprocessor = preprocessor;
    readonly TensorPool _tensors = tensors;

    public async Task RunAsync(string root, ChannelReader<ClaimedImage> reader, ChannelWriter<PreparedImage> writer,
        CancellationToken stopping, CancellationToken fatal)
    {
        try
        {
            while (await reader.WaitToReadAsync(stopping).ConfigureAwait(false))
            {
                while (!stopping.IsCancellationRequested && reader.TryRead(out ClaimedImage? image))
                {
                    PreparedImage result = Prepare(root, image);
                    // Written even while stopping: a decoded image is finished work worth committing.
                    await writer.WriteAsync(result, fatal).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    public PreparedImage Prepare(string root, ClaimedImage image)
    {
        byte[] encoded;
        try
        {
            encoded = File.ReadAllBytes(Path.Combine(root, image.Path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return PreparedImage.Failed(image, "read", "file vanished before it was read");
        }
        catch (UnauthorizedAccessException)
        {
            return PreparedImage.Failed(image, "read", "permission denied");
        }
        catch (IOException e)
        {
            return PreparedImage.Failed(image, "read", ImageDecoder.OneLine(e.Message));
        }

        // Content identity, from the bytes read for decoding anyway: a moved or copied file
        // takes the vector its content already has, with no decoding or inference.
        string hash = Convert.ToHexStringLower(BitConverter.GetBytes(System.IO.Hashing.XxHash3.HashToUInt64(encoded)));
        if (_catalog.FindVectorByContent(hash, encoded.Length) is { } known && known.Length == _dimension)
            return new PreparedImage(image, null, null) { Reused = known, ContentHash = hash };

        float[] tensor = _tensors.Rent();
        try
        {
            _preprocessor.Preprocess(encoded, tensor.AsSpan(0, _preprocessor.TensorLength), image.Path);
            return new PreparedImage(image, tensor, null) { ContentHash = hash };
        }
        catch (ImageDecodeException e)
        {
            // A bad image is data: the decoders' failures become the image's recorded reason. Any
            // other exception is a Glimpse bug and fails the run loudly (not a "corrupt image" row).
            _tensors.Return(tensor);
            return PreparedImage.Failed(image, "decode", e.Message);
        }
        catch
        {
            _tensors.Return(tensor);
            throw;
        }
    }
}
