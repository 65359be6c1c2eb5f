using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Glimpse.Tests.Support;

/// <summary>
/// A real HTTP server on 127.0.0.1 that serves a model folder the way Hugging Face does:
/// <c>/api/models/{repo}/tree/main?recursive=true</c> (the Hub's JSON listing: directories and
/// files, <c>lfs.oid</c> sha256 for LFS files, the git blob id as <c>oid</c> for small ones, paged
/// with <c>Link: rel="next"</c>), <c>/{repo}/resolve/main/{file}</c>, <c>X-Linked-Etag</c> and
/// <c>X-Linked-Size</c> on LFS files, range requests answered with 206. It can be told to cut a
/// file off half-way, throttle, corrupt a byte or leave a listed file out, and it records the
/// range requests and the files it served.
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

    /// <summary>Every file served (path relative to the repository), in order.</summary>
    public List<string> Served { get; } = [];

    /// <summary>Files listed but answered with 404 (a repository caught mid-upload).</summary>
    public HashSet<string> Unserved { get; } = [];

    /// <summary>Entries per listing page (the Hub pages at 1000; small here so paging is exercised).</summary>
    public int PageSize { get; set; } = 4;

    /// <summary>LFS on the Hub holds the weights; JSON and text are plain git files.</summary>
    static bool IsLfs(string file) => !(file.EndsWith(".json") || file.EndsWith(".txt") || file.EndsWith(".md"));

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
            if (path == $"/api/models/{_repo}/tree/main")
            {
                ServeListing(context);
                return;
            }
            string file = path.StartsWith(prefix) ? path[prefix.Length..] : "";
            string full = Path.Combine(_folder, file);
            bool unserved;
            lock (Unserved)
                unserved = Unserved.Contains(file);
            if (file.Length == 0 || !File.Exists(full) || unserved)
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            byte[] bytes = File.ReadAllBytes(full);
            lock (Served)
                Served.Add(file);
            if (IsLfs(file))
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

    /// <summary>One page of the recursive listing: directories and files in path order, as the Hub answers.</summary>
    void ServeListing(HttpListenerContext context)
    {
        var entries = new List<object>();
        foreach (string dir in Directory.EnumerateDirectories(_folder, "*", SearchOption.AllDirectories))
            entries.Add(new { type = "directory", oid = new string('0', 40), size = 0, path = Rel(dir) });
        foreach (string full in Directory.EnumerateFiles(_folder, "*", SearchOption.AllDirectories))
        {
            string file = Rel(full);
            byte[] bytes = File.ReadAllBytes(full);
            string gitId = Convert.ToHexStringLower(SHA1.HashData([.. System.Text.Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));
            entries.Add(IsLfs(file)
                ? new { type = "file", oid = gitId, size = (long)bytes.Length, path = file, lfs = (object?)new { oid = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = (long)bytes.Length, pointerSize = 134 } }
                : new { type = "file", oid = gitId, size = (long)bytes.Length, path = file, lfs = (object?)null });
        }
        entries = entries.OrderBy(e => (string)e.GetType().GetProperty("path")!.GetValue(e)!, StringComparer.Ordinal).ToList();
        int start = int.TryParse(context.Request.QueryString["cursor"], out int c) ? c : 0;
        var page = entries.Skip(start).Take(PageSize).ToList();
        if (start + PageSize < entries.Count)
            context.Response.AddHeader("Link", $"<{Endpoint}/api/models/{_repo}/tree/main?recursive=true&cursor={start + PageSize}>; rel=\"next\"");
        byte[] json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(page, new System.Text.Json.JsonSerializerOptions { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull });
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = json.Length;
        context.Response.OutputStream.Write(json);
        context.Response.Close();

        string Rel(string full) => Path.GetRelativePath(_folder, full).Replace('\\', '/');
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
    }
}
