using System.Diagnostics;
using System.Text;

namespace Glimpse.Tests.Support;

/// <summary>Runs the real <c>glimpse</c> command (Glimpse.Cli.dll) as a child process.</summary>
internal sealed class CliProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _stdout = new();
    readonly StringBuilder _stderr = new();

    CliProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stdout) _stdout.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    static string CliDll => Path.Combine(AppContext.BaseDirectory, "Glimpse.Cli.dll");

    /// <summary>Starts <c>glimpse ARGS</c>; <paramref name="asUser"/> runs it under another uid through setpriv (needs root).</summary>
    public static CliProcess Start(IEnumerable<string> args, int? asUser = null, IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (workingDirectory is not null)
            psi.WorkingDirectory = workingDirectory;
        // Through env --default-signal=INT: a test run started as a background job inherits SIGINT
        // ignored (the shell's rule for background jobs), and .NET keeps an inherited ignore; a
        // user's glimpse in a terminal gets SIGINT, so the tests' glimpse must too.
        psi.FileName = "env";
        psi.ArgumentList.Add("--default-signal=INT");
        if (asUser is { } uid)
        {
            foreach (string a in new[] { "setpriv", $"--reuid={uid}", $"--regid={uid}", "--clear-groups" })
                psi.ArgumentList.Add(a);
            psi.Environment["HOME"] = Path.GetTempPath();
            psi.Environment["DOTNET_CLI_HOME"] = Path.GetTempPath();
        }
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(CliDll);
        foreach (string a in args)
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in env ?? new Dictionary<string, string>())
            psi.Environment[key] = value;
        return new CliProcess(Process.Start(psi)!);
    }

    /// <summary>Runs <c>glimpse ARGS</c> to the end (at most <paramref name="timeout"/>).</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(IEnumerable<string> args, TimeSpan? timeout = null, int? asUser = null,
        IReadOnlyDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        using var p = Start(args, asUser, env, workingDirectory);
        int code = p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3));
        return (code, p.Stdout, p.Stderr);
    }

    public int Id => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"glimpse did not finish within {timeout}. stderr:\n{Stderr}");
        }
        _process.WaitForExit(); // drains the output readers
        return _process.ExitCode;
    }

    /// <summary>Sends a POSIX signal (9 = SIGKILL, 15 = SIGTERM, 2 = SIGINT).</summary>
    public void Signal(int signal) => Posix.Kill(_process.Id, signal);

    public void Dispose()
    {
        if (!_process.HasExited)
            _process.Kill(entireProcessTree: true);
        _process.Dispose();
    }
}

internal static partial class Posix
{
    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    public static void Kill(int pid, int signal)
    {
        if (KillNative(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}");
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();
}
