using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Glimpse.Models;

/// <summary>
/// Downloads a model folder in the Immich layout from a Hugging Face repository
/// (<c>{endpoint}/{repo}/resolve/main/{file}</c>) into the <see cref="ModelCache"/>.
/// </summary>
/// <remarks>
/// Files go into a hidden <c>.NAME.partial</c> folder that survives interruptions: the next pull
/// resumes each file with an HTTP range request. Every file is checked against the sha256 the
/// server announces (Hugging Face sends it as <c>X-Linked-Etag</c> for LFS files, before the
/// redirect to its CDN, so redirects are followed here by hand). The folder is renamed into place
/// only when complete: a half-downloaded model is never used. A lock file keeps two processes from
/// pulling the same model at once; the second waits and then finds it done.
/// </remarks>
public sealed partial class ModelDownloader
{
    /// <summary>The files an Immich-layout CLIP folder needs.</summary>
    static readonly string[] ImmichFiles =
    [
        "config.json",
        "visual/preprocess_cfg.json",
        "textual/tokenizer.json",
        "textual/tokenizer_config.json",
        "visual/model.onnx",
        "textual/model.onnx",
    ];

    /// <summary>Attempts per file on transient errors (connection reset, 5xx), with 1, 2, 4 s between them.</summary>
    const int Attempts = 4;

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

    /// <summary>Bytes done and expected so far (expected is 0 until the sizes are known).</summary>
    public event Action<long, long>? Progress;

    /// <summary>The Hugging Face repository of a model name: immich-app/NAME.</summary>
    public static string RepositoryOf(string name) => $"immich-app/{name}";

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

        string partial = Path.Combine(_cache.Root, $".{name}.partial");
        Directory.CreateDirectory(partial);
        long done = 0, total = 0;
        foreach (string file in ImmichFiles)
        {
            string target = Path.Combine(partial, file);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            string url = $"{_endpoint}/{RepositoryOf(name)}/resolve/main/{file}";
            long before = done;
            (long size, string? sha) = await DownloadWithRetriesAsync(url, target, name, file,
                (d, t) => Progress?.Invoke(before + d, Math.Max(total, before + t)), cancellationToken).ConfigureAwait(false);
            done += size;
            total = Math.Max(total, done);
            await VerifyAsync(target, sha, file, cancellationToken).ConfigureAwait(false);
        }

        // Only a complete, verified folder gets the model's name.
        Directory.Move(partial, final);
        return final;
    }

    async Task<(long Size, string? Sha256)> DownloadWithRetriesAsync(string url, string target, string name, string file,
        Action<long, long> progress, CancellationToken cancellationToken)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return await DownloadAsync(url, target, name, file, progress, cancellationToken).ConfigureAwait(false);
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
                throw new ModelDownloadException($"the disk is full while downloading {file} of model {name} into {Path.GetDirectoryName(target)}: free some space and pull again (it resumes).", e);
            }
            catch (Exception e) when (IsTransient(e))
            {
                throw new ModelDownloadException($"downloading {file} of model {name} failed {Attempts} times: {e.Message} Pull again to resume.", e);
            }
        }
    }

    async Task<(long, string?)> DownloadAsync(string url, string target, string name, string file, Action<long, long> progress, CancellationToken cancellationToken)
    {
        long have = File.Exists(target) ? new FileInfo(target).Length : 0;
        string? sha = null;
        long? announcedSize = null;
        Uri uri = new(url);
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            if (have > 0)
                request.Headers.Range = new RangeHeaderValue(have, null);
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);

            // The first response carries the LFS file's sha256 and size; the CDN's may not.
            sha ??= Sha256From(response.Headers, "X-Linked-Etag") ?? Sha256From(response.Headers, "ETag");
            announcedSize ??= HeaderLong(response.Headers, "X-Linked-Size");

            if ((int)response.StatusCode is >= 300 and < 400 && response.Headers.Location is { } next && hop < 5)
            {
                uri = next.IsAbsoluteUri ? next : new Uri(uri, next);
                continue;
            }
            if (response.StatusCode == HttpStatusCode.NotFound)
                throw new ModelDownloadException($"model {name} has no {file} at {url} (404): check the model name (see 'glimpse models pull --help').");
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
                return (have, sha); // already whole; the checksum decides
            if ((int)response.StatusCode >= 500)
                throw new HttpRequestException($"the server answered {(int)response.StatusCode} for {url}.", null, response.StatusCode);
            if (!response.IsSuccessStatusCode)
                throw new ModelDownloadException($"the server refused {url}: {(int)response.StatusCode} {response.ReasonPhrase}.");

            bool resumed = response.StatusCode == HttpStatusCode.PartialContent;
            long start = resumed ? have : 0;
            long expected = announcedSize ?? (start + (response.Content.Headers.ContentLength ?? 0));
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using var output = new FileStream(target, resumed ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            var buffer = new byte[1 << 16];
            long written = start;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                written += read;
                progress(written, expected);
            }
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (expected > 0 && written < expected)
                throw new IOException($"the connection ended after {written} of {expected} bytes of {file}.");
            return (written, sha);
        }
    }

    static async Task VerifyAsync(string path, string? expectedSha, string file, CancellationToken cancellationToken)
    {
        if (expectedSha is null)
            return; // small git files carry a git hash, not a sha256: nothing to check against
        await using var stream = File.OpenRead(path);
        string actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false));
        if (actual != expectedSha)
        {
            File.Delete(path);
            throw new ModelDownloadException($"{file} is corrupt: its sha256 is {actual[..12]}…, the server announced {expectedSha[..12]}…. It was deleted; pull again.");
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

    static string? Sha256From(HttpResponseHeaders headers, string name)
    {
        if (!headers.TryGetValues(name, out var values))
            return null;
        Match m = Sha256Pattern().Match(values.First());
        return m.Success ? m.Groups[1].Value.ToLowerInvariant() : null;
    }

    static long? HeaderLong(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values) && long.TryParse(values.First(), out long v) ? v : null;

    static bool IsTransient(Exception e) => e switch
    {
        HttpRequestException { InnerException: System.Net.Sockets.SocketException } => false, // refused, unreachable: say so at once
        HttpRequestException h => h.StatusCode is null || (int)h.StatusCode >= 500,
        IOException io => !IsDiskFull(io),
        _ => false,
    };

    static bool IsDiskFull(IOException e) => e.HResult == 28 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex("^(?:W/)?\"?([0-9a-fA-F]{64})\"?$")]
    private static partial Regex Sha256Pattern();
}
