using System.Diagnostics;
using Glimpse.Indexing;

namespace Glimpse.Tests.Indexing;

// A worker takes back the claims of a dead worker of its own machine at once; a worker elsewhere
// (another host, or a container with the same hostname and its own pids) is left to its lease.
public class WorkerIdentityTests
{
    static (int Pid, long StartMs) DeadProcess()
    {
        using var process = Process.Start(new ProcessStartInfo("sleep", "60") { UseShellExecute = false })!;
        long startMs = new DateTimeOffset(process.StartTime.ToUniversalTime()).ToUnixTimeMilliseconds();
        process.Kill();
        process.WaitForExit();
        return (process.Id, startMs);
    }

    [Fact]
    public void This_process_is_alive_and_names_its_pid_space()
    {
        Assert.False(WorkerIdentity.IsDeadLocalOwner(WorkerIdentity.Current));
        Assert.Equal(Environment.ProcessId.ToString(), WorkerIdentity.Current.Split('/')[1]);
        Assert.Matches(@"^[0-9a-f]{12}\.[0-9]+$", WorkerIdentity.PidSpace);
        Assert.EndsWith("/" + WorkerIdentity.PidSpace, WorkerIdentity.Current);
    }

    [Fact]
    public void An_exited_process_of_this_pid_space_is_dead()
    {
        var (pid, startMs) = DeadProcess();
        Assert.True(WorkerIdentity.IsDeadLocalOwner(WorkerIdentity.Name(Environment.MachineName, pid, startMs, WorkerIdentity.PidSpace)));
        // A live pid that started at another time is a reused pid: its first owner is gone.
        Assert.True(WorkerIdentity.IsDeadLocalOwner(WorkerIdentity.Name(Environment.MachineName, Environment.ProcessId, 1000, WorkerIdentity.PidSpace)));
    }

    [Fact]
    public void Owners_of_another_host_or_pid_space_or_an_unknown_form_are_never_judged_dead()
    {
        var (pid, startMs) = DeadProcess();
        Assert.False(WorkerIdentity.IsDeadLocalOwner(WorkerIdentity.Name(Environment.MachineName, pid, startMs, "0123456789ab.4026531999"))); // same hostname, another container
        Assert.False(WorkerIdentity.IsDeadLocalOwner(WorkerIdentity.Name("elsewhere", pid, startMs, WorkerIdentity.PidSpace)));
        Assert.False(WorkerIdentity.IsDeadLocalOwner($"{Environment.MachineName}/{pid}/{startMs}")); // an older form: left to its lease
        Assert.False(WorkerIdentity.IsDeadLocalOwner("zombie"));
    }
}
