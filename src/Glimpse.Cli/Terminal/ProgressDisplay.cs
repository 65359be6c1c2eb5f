using System.Diagnostics;
using Glimpse.Indexing;

namespace Glimpse.Cli.Terminal;

/// <summary>
/// Shows an indexing run's progress on stderr: a redrawn bar with images/s and ETA on a
/// terminal, a plain line every <see cref="PlainInterval"/> otherwise (logs, pipes).
/// </summary>
internal sealed class ProgressDisplay : IAsyncDisposable
{
    static readonly TimeSpan TerminalInterval = TimeSpan.FromMilliseconds(250);
    static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>The rate is a moving average over about this long, so the ETA follows speed changes.</summary>
    const double RateWindowSeconds = 20;

    readonly IndexProgress _progress;
    readonly TextWriter _err;
    readonly bool _terminal;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    readonly Stopwatch _clock = Stopwatch.StartNew();
    double _rate;
    long _lastCount;
    double _lastSeconds;

    public ProgressDisplay(IndexProgress progress, TextWriter err, bool terminal)
    {
        _progress = progress;
        _err = err;
        _terminal = terminal;
        _loop = Task.Run(LoopAsync);
    }

    async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(_terminal ? TerminalInterval : PlainInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                Draw();
        }
        catch (OperationCanceledException)
        {
        }
    }

    void Draw()
    {
        long finished = _progress.Done + _progress.Failed;
        double now = _clock.Elapsed.TotalSeconds;
        double dt = now - _lastSeconds;
        if (dt > 0)
        {
            double instant = (finished - _lastCount) / dt;
            double alpha = Math.Min(1, dt / RateWindowSeconds);
            _rate = _lastSeconds == 0 ? instant : _rate + alpha * (instant - _rate);
        }
        _lastCount = finished;
        _lastSeconds = now;

        long left = _progress.Left;
        long total = finished + left;
        string eta = _rate > 0.01 && _progress.ScanComplete ? FormatDuration(left / _rate) : "--:--:--";
        string scan = _progress.ScanComplete ? "" : $" (scanning: {_progress.Found} files)";
        string counts = $"{finished}/{total} {_rate,6:0.0} img/s ETA {eta} failed {_progress.Failed}{scan}";
        if (_terminal)
        {
            const int width = 30;
            int filled = total > 0 ? (int)(width * finished / total) : 0;
            _err.Write($"\r[{new string('#', filled)}{new string('.', width - filled)}] {counts}\u001b[K");
        }
        else
        {
            _err.WriteLine($"glimpse: {counts}");
        }
    }

    internal static string FormatDuration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds > 99 * 86400)
            return "--:--:--";
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalDays >= 1 ? $"{(int)t.TotalDays}d{t:hh\\:mm\\:ss}" : t.ToString(@"hh\:mm\:ss");
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await _loop;
        Draw();
        if (_terminal)
            _err.WriteLine();
        _stop.Dispose();
    }
}
