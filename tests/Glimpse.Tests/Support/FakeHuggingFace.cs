using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Glimpse.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 that serves a model folder the way Hugging Face does:
/// <c>/{repo}/resolve/main/{file}</c>, <c>X-Linked-Etag</c> (sha256) and <c>X-Linked-Size</c> on
/// .onnx files, range requests answered with 206. It can be told to cut a file off half-way,
/// throttle, or corrupt a byte, and it records the range requests it saw.
/// </summary>
internal sealed class FakeHuggingFace : IDisposable
{
    readonly HttpListener _listener = new();
    readonly string _folder;
    readonly string _repo;
    readonly Task _loop;

    public FakeHuggingFace(string folder, string repo)
    {
        _folder = folder;
        _repo = repo;
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    /// <summary>Files to cut off after half their bytes, once each.</summary>
    public HashSet<string> CutOnce { get; } = [];

    /// <summary>Files served with one byte flipped (the announced sha256 stays the true one).</summary>
    public HashSet<string> Corrupt { get; } = [];

    /// <summary>Pause per 64 KB sent, to make a download slow enough to kill.</summary>
    public TimeSpan Throttle { get; set; }

    public List<string> RangeRequests { get; } = [];

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(context));
        }
    }

    async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            string prefix = $"/{_repo}/resolve/main/";
            string path = Uri.UnescapeDataString(context.Request.Url!.AbsolutePath);
            string file = path.StartsWith(prefix) ? path[prefix.Length..] : "";
            string full = Path.Combine(_folder, file);
            if (file.Length == 0 || !File.Exists(full))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            byte[] bytes = File.ReadAllBytes(full);
            if (file.EndsWith(".onnx"))
            {
                response.AddHeader("X-Linked-Etag", $"\"{Convert.ToHexStringLower(SHA256.HashData(bytes))}\"");
                response.AddHeader("X-Linked-Size", bytes.Length.ToString());
            }
            lock (Corrupt)
                if (Corrupt.Contains(file))
                {
                    bytes = (byte[])bytes.Clone();
                    bytes[bytes.Length / 2] ^= 0xFF;
                }

            long start = 0;
            string? range = context.Request.Headers["Range"];
            if (range is not null)
            {
                lock (RangeRequests)
                    RangeRequests.Add($"{file} {range}");
                start = long.Parse(range["bytes=".Length..].TrimEnd('-'));
                if (start >= bytes.Length)
                {
                    response.StatusCode = 416;
                    response.Close();
                    return;
                }
                response.StatusCode = 206;
                response.AddHeader("Content-Range", $"bytes {start}-{bytes.Length - 1}/{bytes.Length}");
            }
            response.ContentLength64 = bytes.Length - start;

            bool cut;
            lock (CutOnce)
                cut = CutOnce.Remove(file);
            long end = cut ? bytes.Length / 2 : bytes.Length;
            for (long offset = start; offset < end; offset += 65536)
            {
                int n = (int)Math.Min(65536, end - offset);
                await response.OutputStream.WriteAsync(bytes.AsMemory((int)offset, n));
                if (Throttle > TimeSpan.Zero)
                    await Task.Delay(Throttle);
            }
            if (cut)
            {
                response.Abort(); // the connection drops mid-file
                return;
            }
            response.Close();
        }
        catch (Exception)
        {
            try { response.Abort(); } catch (Exception) { }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
