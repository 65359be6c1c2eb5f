namespace Glimpse.Models;

/// <summary>A model folder is missing a file or holds one that cannot be used. The message is one line that names it.</summary>
public sealed class ModelFolderException : Exception
{
    public ModelFolderException(string message, Exception? inner = null) : base(message, inner) { }
}
