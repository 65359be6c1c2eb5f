namespace Glimpse.Models;

/// <summary>A model could not be downloaded. The message is one line saying why and what to do.</summary>
public sealed class ModelDownloadException : Exception
{
    public ModelDownloadException(string message, Exception? inner = null) : base(message, inner) { }
}
