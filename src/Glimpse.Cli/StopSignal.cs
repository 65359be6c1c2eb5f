using System.Runtime.InteropServices;

namespace Glimpse.Cli;

/// <summary>
/// The process's one stop signal, for every command: the first SIGINT or SIGTERM cancels
/// <see cref="Token"/> (stop taking work, finish or give back what is in hand: an index run commits
/// it, a server drains its requests, a copy or a download stops where it can resume), and a second
/// one exits at once. The catalog is safe either way. The exit code says which signal it was.
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

    /// <summary>True once a stop signal came.</summary>
    public bool IsStopping => _cts.IsCancellationRequested;

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
        Console.Error.WriteLine("\nglimpse: stopping: finishing what is in hand (press Ctrl-C again to quit now)...");
        _cts.Cancel();
    }

    public void Dispose()
    {
        foreach (var r in _registrations)
            r.Dispose();
        _cts.Dispose();
    }
}
