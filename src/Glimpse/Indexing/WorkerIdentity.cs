using System.Diagnostics;
using System.Globalization;

namespace Glimpse.Indexing;

/// <summary>
/// Names a worker process in leases as <c>host/pid/start-ms/pid-space</c>, so a later run on the
/// same machine can tell that the owner of a lease is gone (no such pid, or a pid reused by a
/// process that started at another time) and take its claims back at once instead of waiting for
/// expiry.
/// </summary>
/// <remarks>
/// A hostname alone does not say "same machine": containers and cloned VMs sharing one PostgreSQL
/// catalog often have the same one, and each has its own pids. The pid space (this boot of the
/// kernel and this pid namespace) does; an owner from another pid space is never judged here.
/// </remarks>
internal static class WorkerIdentity
{
    // Start times read through /proc can differ by a few jiffies between two reads.
    const long StartTimeToleranceMs = 2000;

    /// <summary>This process's pid space: the kernel's boot id and the pid namespace, or "?" where the OS does not say.</summary>
    internal static string PidSpace { get; } = ReadPidSpace();

    // After PidSpace: static initializers run in the order written.
    public static string Current { get; } = Create();

    static string Create()
    {
        using var self = Process.GetCurrentProcess();
        return Name(Environment.MachineName, self.Id, StartMs(self), PidSpace);
    }

    internal static string Name(string host, int pid, long startMs, string pidSpace) =>
        string.Create(CultureInfo.InvariantCulture, $"{host}/{pid}/{startMs}/{pidSpace}");

    /// <summary>True when <paramref name="owner"/> names a process of this machine and pid space that no longer runs.</summary>
    public static bool IsDeadLocalOwner(string owner)
    {
        string[] parts = owner.Split('/');
        if (parts.Length != 4 || parts[0] != Environment.MachineName || parts[3] != PidSpace || PidSpace == "?"
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int pid)
            || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long startMs))
            return false;
        try
        {
            using var process = Process.GetProcessById(pid);
            return process.HasExited || Math.Abs(StartMs(process) - startMs) > StartTimeToleranceMs;
        }
        catch (ArgumentException)
        {
            return true; // no process with that id
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return true; // exited while we looked (its /proc entry went away before its start time was read)
        }
    }

    static long StartMs(Process process) =>
        new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();

    static string ReadPidSpace()
    {
        try
        {
            string boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim().Replace("-", "")[..12];
            FileSystemInfo? ns = new FileInfo("/proc/self/ns/pid").ResolveLinkTarget(returnFinalTarget: false);
            string inode = new string(ns?.Name.Where(char.IsAsciiDigit).ToArray() ?? []);
            return inode.Length > 0 ? $"{boot}.{inode}" : "?";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return "?"; // not Linux: the hostname is all there is, so no lease is judged from here
        }
    }
}
