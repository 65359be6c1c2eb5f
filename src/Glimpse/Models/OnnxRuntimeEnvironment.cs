using Microsoft.ML.OnnxRuntime;

namespace Glimpse.Models;

/// <summary>
/// The process's ONNX Runtime environment, made with a logger of Glimpse's own: ONNX Runtime
/// writes its errors to stderr in colour with a code location (a CUDA provider that does not load
/// prints three lines before the exception says less), while every error it logs also reaches
/// Glimpse as an exception. So the log is kept, the last error is handed to whoever explains the
/// failure in one line, and it is printed only with <c>GLIMPSE_DEBUG=1</c>.
/// </summary>
internal static class OnnxRuntimeEnvironment
{
    static readonly Lock Gate = new();
    static readonly DOrtLoggingFunction Logger = Log; // kept alive: native code holds the pointer
    static string? _lastError;
    static bool _made;

    /// <summary>The environment; made on first use, before any session, so the logger takes effect.</summary>
    public static OrtEnv Get()
    {
        lock (Gate)
        {
            if (!_made)
            {
                _made = true;
                if (!OrtEnv.IsCreated)
                {
                    var options = new EnvironmentCreationOptions
                    {
                        logId = "glimpse",
                        logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
                        loggingFunction = Logger,
                    };
                    try
                    {
                        OrtEnv.CreateInstanceWithOptions(ref options);
                    }
                    catch (OnnxRuntimeException)
                    {
                        // Made elsewhere in the meantime (a caller that used ONNX Runtime directly): its logger stays.
                    }
                }
            }
        }
        return OrtEnv.Instance();
    }

    /// <summary>The last error ONNX Runtime logged since the previous call, or null.</summary>
    public static string? TakeLastError() => Interlocked.Exchange(ref _lastError, null);

    static void Log(IntPtr param, OrtLoggingLevel severity, string category, string logId, string codeLocation, string message)
    {
        Volatile.Write(ref _lastError, message);
        if (Environment.GetEnvironmentVariable("GLIMPSE_DEBUG") == "1")
            Console.Error.WriteLine($"onnxruntime [{severity}] {codeLocation}: {message}");
    }
}
