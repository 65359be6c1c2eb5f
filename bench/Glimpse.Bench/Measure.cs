using System.Diagnostics;

namespace Glimpse.Bench;

/// <summary>Wall time and this process's CPU time of one piece of work.</summary>
internal readonly record struct Measure(double WallSeconds, double CpuSeconds)
{
    public static Measure Of(Action work)
    {
        var process = Process.GetCurrentProcess();
        process.Refresh();
        TimeSpan cpu0 = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        work();
        wall.Stop();
        process.Refresh();
        return new Measure(wall.Elapsed.TotalSeconds, (process.TotalProcessorTime - cpu0).TotalSeconds);
    }
}
