namespace Glimpse.Imaging;

/// <summary>
/// An image could not be turned into pixels. A bad image is data, not a crash: the indexer
/// records <see cref="Exception.Message"/> as the one-line reason and goes on.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string message, Exception? inner = null) : base(message, inner) { }
}
