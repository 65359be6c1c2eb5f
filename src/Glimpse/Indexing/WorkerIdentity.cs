using System.Diagnostics;
using System.Globalization;

namespace Glimpse.Indexing;

/// <summary>
/// Names a worker process in leases as <c>host/pid/start-ms</c>, so a later run on the same
/// machine can tell that the owner of a lease is gone (no such pid, or a pid reused by a process
/// that started at another time) and take its claims back at once instead of waiting for expiry.
/// </summary>
internal static class WorkerIdentity
{
    // Start times read through /proc can differ by a few jiffies between two reads.
    const long StartTimeToleranceMs = 2000;

    public static string Current { get; } = Create();

    static string Create()
    {
        using var self = Process.GetCurrentProcess();
        return $"{Environment.MachineName}/{self.Id}/{StartMs(self)}";
    }

    /// <summary>True when <paramref name="owner"/> names a process of this machine that no longer runs.</summary>
    public static bool IsDeadLocalOwner(string owner)
    {
        string[] parts = owner.Split('/');
        if (parts.Length != 3 || parts[0] != Environment.MachineName
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
        catch (InvalidOperationException)
        {
            return true; // exited while we looked
        }
    }

    static long StartMs(Process process) =>
        new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
}
