namespace Glimpse.Cli;

/// <summary>What <c>glimpse</c>'s exit status means (also listed in the README).</summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    /// <summary>The run finished, but some images failed (see <c>glimpse failed</c>).</summary>
    public const int SomeFailed = 3;
    /// <summary>Stopped by Ctrl-C (SIGINT) after committing the work in hand.</summary>
    public const int Interrupted = 130;
    /// <summary>Stopped by SIGTERM after committing the work in hand.</summary>
    public const int Terminated = 143;
}
