using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Glimpse.Models;

/// <summary>
/// Downloads a model folder in the Immich layout from a Hugging Face repository into the
/// <see cref="ModelCache"/>: the repository's file tree is listed through the Hub API
/// (<c>{endpoint}/api/models/{repo}/tree/main?recursive=true</c>, paged by <c>Link</c> headers),
/// and <c>config.json</c> plus every file directly under <c>visual/</c> and <c>textual/</c> is
/// fetched from <c>{endpoint}/{repo}/resolve/main/{file}</c>: external-data weights included, other
/// runtimes' subfolders (<c>rknpu/</c>, <c>armnn/</c>, <c>fp16/</c>) left out.
/// </summary>
/// <remarks>
/// Files go into a hidden <c>.NAME.partial</c> folder that survives interruptions: the next pull
/// resumes each file with an HTTP range request. Sizes come from the listing, so progress covers
/// the whole model from the first byte. Every file is checked: LFS files against the sha256 the
/// listing gives, small git files against their git blob id. The folder is renamed into place only
/// when every listed file is there and verified and the model's own references (external data)
/// resolve: a half-downloaded model is never used. A lock file keeps two processes from pulling the
/// same model at once; the second waits and then finds it done.
/// </remarks>
public sealed partial class ModelDownloader
{
    /// <summary>Attempts per request on transient errors (connection reset, 5xx), with 1, 2, 4 s between them.</summary>
    const int Attempts = 4;

    /// <summary>Files of other runtimes that Immich's repositories keep beside the ONNX ones.</summary>
    static readonly string[] OtherRuntimeExtensions = [".armnn", ".rknn", ".tflite", ".mlmodel", ".engine", ".md"];

    readonly ModelCache _cache;
    readonly string _endpoint;
    readonly HttpClient _http;
    readonly Func<TimeSpan, CancellationToken, Task> _delay;

    public ModelDownloader(ModelCache cache, string? endpoint = null, HttpMessageHandler? handler = null,
        Func<TimeSpan, CancellationToken, Task>? delay = null)
    {
        _cache = cache;
        _endpoint = (endpoint ?? Environment.GetEnvironmentVariable("GLIMPSE_HF_ENDPOINT") ?? "https://huggingface.co").TrimEnd('/');
        _http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, ConnectTimeout = TimeSpan.FromSeconds(15) })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _delay = delay ?? Task.Delay;
    }

    /// <summary>Bytes done and expected (the whole model's size, known from the listing).</summary>
    public event Action<long, long>? Progress;

    /// <summary>The Hugging Face repository of a model name: immich-app/NAME.</summary>
    public static string RepositoryOf(string name) => $"immich-app/{name}";

    /// <summary>One file of the repository as the Hub lists it.</summary>
    public sealed record RemoteFile(string Path, long Size, string? Sha256, string? GitBlobId);

    /// <summary>True for the files an ONNX CPU runtime needs: config.json and what lies directly in visual/ and textual/.</summary>
    public static bool IsNeeded(string path)
    {
        if (path == "config.json")
            return true;
        int slash = path.IndexOf('/');
        if (slash < 0 || path[..slash] is not ("visual" or "textual"))
            return false;
        string rest = path[(slash + 1)..];
        return rest.Length > 0 && !rest.Contains('/') && !rest.StartsWith('.')
               && !OtherRuntimeExtensions.Contains(System.IO.Path.GetExtension(rest), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>Downloads <paramref name="name"/> unless it is already cached; returns its folder.</summary>
    public async Task<string> PullAsync(string name, CancellationToken cancellationToken = default)
    {
        if (!ModelCache.IsValidName(name))
            throw new ModelDownloadException($"'{name}' is not a model name (one folder name, like {ModelCache.DefaultModel}).");
        string final = _cache.PathOf(name);
        if (Directory.Exists(final))
            return final;

        Directory.CreateDirectory(_cache.Root);
        await using var fileLock = await AcquireLockAsync(Path.Combine(_cache.Root, $".{name}.lock"), cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(final))
            return final; // another process finished it while we waited

        IReadOnlyList<RemoteFile> files = await ListAsync(name, cancellationToken).ConfigureAwait(false);
        string partial = Path.Combine(_cache.Root, $".{name}.partial");
        Directory.CreateDirectory(partial);
        long total = files.Sum(f => f.Size), done = 0;
        Progress?.Invoke(0, total);
        foreach (RemoteFile file in files)
        {
            string target = Path.Combine(partial, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            string url = $"{_endpoint}/{RepositoryOf(name)}/resolve/main/{file.Path}";
            long before = done;
            await WithRetriesAsync(url, name, file.Path, target,
                () => DownloadAsync(url, target, name, file, d => Progress?.Invoke(before + d, total), cancellationToken), cancellationToken).ConfigureAwait(false);
            await VerifyAsync(target, file, cancellationToken).ConfigureAwait(false);
            done += file.Size;
        }

        // Only a complete, verified folder whose model finds all its weights gets the model's name.
        EnsureUsable(partial, name);
        Directory.Move(partial, final);
        return final;
    }

    /// <summary>The files of <paramref name="name"/> that a pull fetches, from the Hub's recursive listing (all pages).</summary>
    public async Task<IReadOnlyList<RemoteFile>> ListAsync(string name, CancellationToken cancellationToken = default)
    {
        var files = new List<RemoteFile>();
        string? url = $"{_endpoint}/api/models/{RepositoryOf(name)}/tree/main?recursive=true";
        for (int page = 0; url is not null; page++)
        {
            if (page > 1000)
                throw new ModelDownloadException($"the listing of model {name} did not end after 1000 pages.");
            string pageUrl = url;
            (string json, string? next) = await WithRetriesAsync(pageUrl, name, "the file listing", null,
                () => GetListingPageAsync(pageUrl, name, cancellationToken), cancellationToken).ConfigureAwait(false);
            files.AddRange(ParseListing(json, name));
            url = next;
        }
        var needed = files.Where(f => IsNeeded(f.Path)).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        foreach (string required in new[] { "visual/model.onnx", "textual/model.onnx" })
            if (!needed.Any(f => f.Path == required))
                throw new ModelDownloadException($"the repository {RepositoryOf(name)} has no {required}: it is not a CLIP model in the Immich layout.");
        return needed;
    }

    async Task<(string Json, string? Next)> GetListingPageAsync(string url, string name, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(url, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Unauthorized)
            throw new ModelDownloadException($"model {name} does not exist at {_endpoint}/{RepositoryOf(name)} ({(int)response.StatusCode}): check the model name (see 'glimpse models pull --help').");
        if ((int)response.StatusCode >= 500)
            throw new HttpRequestException($"the server answered {(int)response.StatusCode} for {url}.", null, response.StatusCode);
        if (!response.IsSuccessStatusCode)
            throw new ModelDownloadException($"the server refused the file listing {url}: {(int)response.StatusCode} {response.ReasonPhrase}.");
        string json = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        string? next = null;
        if (response.Headers.TryGetValues("Link", out var links))
            foreach (string link in links)
                if (NextLink().Match(link) is { Success: true } m)
                    next = new Uri(new Uri(url), m.Groups[1].Value).ToString();
        return (json, next);
    }

    static IEnumerable<RemoteFile> ParseListing(string json, string name)
    {
        JsonArray entries;
        try
        {
            entries = JsonNode.Parse(json) as JsonArray ?? throw new JsonException("not an array");
        }
        catch (JsonException e)
        {
            throw new ModelDownloadException($"the file listing of model {name} is not the Hub's JSON: {e.Message}", e);
        }
        foreach (JsonNode? entry in entries)
        {
            if (entry?["type"]?.GetValue<string>() != "file" || entry["path"]?.GetValue<string>() is not { } path)
                continue;
            if (path.Split('/').Any(part => part is "" or "." or ".."))
                throw new ModelDownloadException($"the file listing of model {name} names an unsafe path '{path}'.");
            JsonNode? lfs = entry["lfs"];
            long size = lfs?["size"]?.GetValue<long>() ?? entry["size"]?.GetValue<long>() ?? 0;
            yield return new RemoteFile(path, size, lfs?["oid"]?.GetValue<string>()?.ToLowerInvariant(), lfs is null ? entry["oid"]?.GetValue<string>() : null);
        }
    }

    /// <summary>Runs one request with retries on transient errors; maps what is final to one clear line.</summary>
    async Task<T> WithRetriesAsync<T>(string url, string name, string what, string? target, Func<Task<T>> action, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await action().ConfigureAwait(false);
            }
            catch (Exception e) when (cancellationToken.IsCancellationRequested && e is not OperationCanceledException)
            {
                // A stop while bytes were in flight can surface as an I/O error: it is a stop, not a failure.
                throw new OperationCanceledException("the download was stopped", e, cancellationToken);
            }
            catch (Exception e) when (attempt < Attempts && IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                await _delay(TimeSpan.FromSeconds(1 << (attempt - 1)), cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.InnerException is System.Net.Sockets.SocketException)
            {
                throw new ModelDownloadException(
                    $"cannot reach {new Uri(url).GetLeftPart(UriPartial.Authority)} to download model {name}: {e.Message} " +
                    "Check the network, or pass --model DIR with a model folder you have.", e);
            }
            catch (IOException e) when (IsDiskFull(e))
            {
                throw new ModelDownloadException($"the disk is full while downloading {what} of model {name} into {Path.GetDirectoryName(target)}: free some space and pull again (it resumes).", e);
            }
            catch (Exception e) when (IsTransient(e))
            {
                throw new ModelDownloadException($"downloading {what} of model {name} failed {Attempts} times: {e.Message} Pull again to resume.", e);
            }
        }
    }

    async Task<long> DownloadAsync(string url, string target, string name, RemoteFile file, Action<long> progress, CancellationToken cancellationToken)
    {
        long have = File.Exists(target) ? new FileInfo(target).Length : 0;
        if (have == file.Size)
            return have; // whole from an earlier pull; the checksum decides
        if (have > file.Size)
        {
            File.Delete(target);
            have = 0;
        }
        Uri uri = new(url);
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (have > 0)
                request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);

            // Followed by hand: the Hub redirects LFS files to its CDN.
            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } next && hop < 5)
            {
                uri = next.IsAbsoluteUri ? next : new Uri(uri, next);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ModelDownloadException($"model {name} lists {file.Path} but the server has no such file at {url} (404): pull again later.");
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                return have; // already whole; the checksum decides
            if ((int)response.StatusCode >= 500)
                throw new HttpRequestException($"the server answered {(int)response.StatusCode} for {url}.", null, response.StatusCode);
            if (!response.IsSuccessStatusCode)
                throw new ModelDownloadException($"the server refused {url}: {(int)response.StatusCode} {response.ReasonPhrase}.");

            bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
            long written = resumed ? have : 0;
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var output = new FileStream(target, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                written += read;
                progress(written);
            }
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (written < file.Size)
                throw new IOException($"the connection ended after {written} of {file.Size} bytes of {file.Path}.");
            return written;
        }
    }

    /// <summary>Checks a downloaded file against the listing: its size, and its sha256 (LFS) or git blob id (small files).</summary>
    static async Task VerifyAsync(string path, RemoteFile file, CancellationToken cancellationToken)
    {
        long length = new FileInfo(path).Length;
        string? problem = null;
        if (length != file.Size)
            problem = $"it has {length} bytes, the listing says {file.Size}";
        else if (file.Sha256 is { } expected)
        {
            await using var stream = File.OpenRead(path);
            string actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
            if (actual != expected)
                problem = $"its sha256 is {actual[..12]}…, the server announced {expected[..12]}…";
        }
        else if (file.GitBlobId is { Length: 40 } blob)
        {
            // git's object id of a file: sha1 of "blob <size>\0" and the bytes.
            using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
            sha1.AppendData(Encoding.ASCII.GetBytes($"blob {length}\0"));
            sha1.AppendData(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
            string actual = Convert.ToHexStringLower(sha1.GetHashAndReset());
            if (!actual.Equals(blob, StringComparison.OrdinalIgnoreCase))
                problem = $"its git id is {actual[..12]}…, the listing says {blob[..Math.Min(12, blob.Length)]}…";
        }
        if (problem is not null)
        {
            File.Delete(path);
            throw new ModelDownloadException($"{file.Path} is corrupt: {problem}. It was deleted; pull again.");
        }
    }

    /// <summary>The downloaded folder opens as a model folder and every external-data file its encoders name is there.</summary>
    static void EnsureUsable(string folder, string name)
    {
        try
        {
            var model = ModelFolder.Open(folder);
            OnnxModelFile.Read(model.VisualModelPath).EnsureExternalDataPresent();
            if (model.TextualModelPath is { } textual)
                OnnxModelFile.Read(textual).EnsureExternalDataPresent();
        }
        catch (ModelFolderException e)
        {
            throw new ModelDownloadException($"model {name} is incomplete after the download, so it was not installed: {e.Message}", e);
        }
    }

    static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                // FileShare.None is an exclusive lock on Unix too (.NET takes an advisory flock).
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose);
            }
            catch (IOException)
            {
                await Task.Delay(200, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    static bool IsTransient(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException } => false, // refused, unreachable: say so at once
        HttpRequestException h => h.StatusCode is null || (int)h.StatusCode >= 500,
        IOException io => !IsDiskFull(io),
        _ => false,
    };

    static bool IsDiskFull(IOException e) => e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    /// <summary>The next page in an RFC 8288 Link header, as the Hub pages its listings.</summary>
    [GeneratedRegex("<([^>]+)>\\s*;\\s*rel=\"?next\"?", RegexOptions.IgnoreCase)]
    private static partial Regex NextLink();
}
