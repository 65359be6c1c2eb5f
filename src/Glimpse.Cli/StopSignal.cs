using System.Runtime.InteropServices;

namespace Glimpse.Cli;

/// <summary>
/// Turns the first SIGINT or SIGTERM into a cancelled token (stop taking work, commit what is in
/// hand) and a second one into an immediate exit: the catalog is safe either way.
/// </summary>
internal sealed class StopSignal : IDisposable
{
    readonly CancellationTokenSource _cts = new();
    readonly PosixSignalRegistration[] _registrations;
    int _signals;

    public StopSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
        ];
    }

    public CancellationToken Token => _cts.Token;

    /// <summary>The exit code the first signal asks for, or null while none came.</summary>
    public int? ExitCode { get; private set; }

    void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // we exit ourselves, after the commit
        int code = context.Signal == PosixSignal.SIGTERM ? ExitCodes.Terminated : ExitCodes.Interrupted;
        if (Interlocked.Increment(ref _signals) > 1)
        {
            Console.Error.WriteLine("glimpse: second signal, exiting now (committed work is safe).");
            Environment.Exit(code);
        }
        ExitCode = code;
        Console.Error.WriteLine("\nglimpse: stopping: committing the images in hand (press Ctrl-C again to quit now)...");
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _cts.Dispose();
    }
}
