using System.CommandLine;
using System.Net;
using System.Reflection;
using Glimpse.Imaging;
using Glimpse.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Glimpse.Cli.Serve;

/// <summary>
/// <c>glimpse serve [ROOT]</c>: a local web page and JSON API over the catalog, with the text model
/// kept warm. Loopback only unless <c>--allow-remote</c>; images are served by catalog id only,
/// never by a path from the client.
/// </summary>
internal static class ServeCommand
{
    const int ThumbSide = 256;

    public static Command Create(CliContext cli)
    {
        var root = Commands.CommonOptions.Root();
        var catalog = Commands.CommonOptions.Catalog();
        var rootPaths = Commands.CommonOptions.RootPath();
        var model = Commands.CommonOptions.Model();
        var offline = Commands.CommonOptions.Offline();
        var port = new Option<int>("--port") { Description = "The TCP port (0 picks a free one).", DefaultValueFactory = _ => 8077 };
        var bind = new Option<string>("--bind") { Description = "The address to listen on. Anything but loopback needs --allow-remote.", DefaultValueFactory = _ => "127.0.0.1" };
        var allowRemote = new Option<bool>("--allow-remote") { Description = "Allow a non-loopback --bind: your photos become reachable from the network (use --token)." };
        var token = new Option<string?>("--token") { Description = "Require this bearer token on every request (Authorization: Bearer T, or ?token=T for images)." };
        var ann = new Option<bool>("--ann") { Description = "Search through the HNSW index beside the catalog (built now if missing; used anyway when one exists): fast under load at 100k+ images." };
        var maxUpload = new Option<int>("--max-upload-mb") { Description = "The largest image accepted for search by example.", DefaultValueFactory = _ => 20 };
        var watch = new Option<bool>("--watch") { Description = "Also keep the index current as 'glimpse watch' does (settle 10 s, full rescan hourly); results follow within seconds." };
        var command = new Command("serve", "Serve a local search page and JSON API: text and example-image search, more like this, thumbnails, live indexing status.")
        {
            root, catalog, rootPaths, model, offline, port, bind, allowRemote, token, ann, maxUpload, watch,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (!IPAddress.TryParse(parse.GetValue(bind), out IPAddress? address))
            {
                cli.Warn($"--bind {parse.GetValue(bind)} is not an IP address.");
                return ExitCodes.Usage;
            }
            if (!IPAddress.IsLoopback(address) && !parse.GetValue(allowRemote))
            {
                cli.Warn($"refusing to listen on {address}: that exposes your photos to the network. Pass --allow-remote (and --token) if you mean it.");
                return ExitCodes.Usage;
            }
            if (!IPAddress.IsLoopback(address))
                cli.Warn($"WARNING: listening on {address}: anyone who can reach it can search and see your photos{(parse.GetValue(token) is null ? " (no --token set!)" : "")}.");

            var catalogAddress = CliContext.Address(parse.GetValue(root)!, parse.GetValue(catalog));
            string rootPath = CliContext.LibraryRoot(parse.GetValue(root)!, catalogAddress, parse.GetValue(rootPaths));
            using var store = cli.OpenExisting(catalogAddress, CliContext.IndexFirst(parse.GetValue(root)!));
            if (store is null)
                return ExitCodes.Error;
            CancellationToken stop = cli.Stop.Token;
            string modelPath = await ModelResolver.ResolveForCatalogAsync(cli, parse.GetValue(model), store, parse.GetValue(offline), stop);
            if (parse.GetValue(ann) && !Glimpse.Search.AnnIndex.IsUsable(store))
                cli.Warn($"building the ANN index of {store.CountDone()} vectors (once; index runs keep it current)...");
            using var service = new SearchService(store, ModelResolver.OpenForCatalog(modelPath, store), rootPath, parse.GetValue(ann));

            var app = Build(service, address, parse.GetValue(port), parse.GetValue(token), parse.GetValue(maxUpload) * 1024L * 1024);
            await app.StartAsync(stop);
            cli.Out.WriteLine($"serving {service.Root} on {app.Urls.First()}");
            cli.Out.Flush();
            // The watcher, when asked for, runs beside the server on its own catalog connection and
            // encoder, and stops with it (after the commit in hand).
            Task watching = parse.GetValue(watch)
                ? Task.Run(() => Glimpse.Cli.Commands.WatchCommand.WatchAsync(cli, catalogAddress, Path.GetFullPath(rootPath), modelPath, "auto",
                    TimeSpan.FromSeconds(10), TimeSpan.FromHours(1), stop), CancellationToken.None)
                : Task.CompletedTask;
            try
            {
                await Task.WhenAny(Task.Delay(Timeout.Infinite, stop), watching);
                if (watching.IsFaulted)
                    cli.Warn($"the watcher stopped: {watching.Exception!.InnerException!.Message.ReplaceLineEndings(" ")}; serving goes on.");
                await Task.Delay(Timeout.Infinite, stop);
            }
            catch (OperationCanceledException)
            {
            }
            try
            {
                await watching;
            }
            catch (Exception e) when (e is OperationCanceledException || watching.IsFaulted)
            {
                // Reported above, or stopped by the signal.
            }
            // Requests in flight get a moment to finish; then the listener, the catalog and the
            // encoders close (the usings), well inside the 2 s a service manager waits.
            using (var drain = new CancellationTokenSource(TimeSpan.FromSeconds(1.5)))
                await app.StopAsync(drain.Token);
            await app.DisposeAsync();
            cli.Warn("stopped serving.");
            return cli.Stop.ExitCode ?? ExitCodes.Ok;
        });
        return command;
    }

    internal static WebApplication Build(SearchService service, IPAddress address, int port, string? token, long maxUploadBytes)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // Signals are the command's (StopSignal), not the host's console lifetime.
        builder.Services.AddSingleton<Microsoft.Extensions.Hosting.IHostLifetime, CommandLifetime>();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(address, port);
            k.Limits.MaxRequestBodySize = maxUploadBytes;
        });
        var app = builder.Build();

        if (token is not null)
            app.Use(async (context, next) =>
            {
                string? given = context.Request.Headers.Authorization.ToString() is { Length: > 7 } auth && auth.StartsWith("Bearer ")
                    ? auth[7..]
                    : context.Request.Query["token"].ToString();
                if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
                        System.Text.Encoding.UTF8.GetBytes(given ?? ""), System.Text.Encoding.UTF8.GetBytes(token)))
                {
                    context.Response.StatusCode = 401;
                    return;
                }
                await next();
            });

        app.MapGet("/", () => Results.Content(Page("index.html"), "text/html; charset=utf-8"));

        app.MapGet("/api/status", () =>
        {
            var s = service.Catalog.GetStats();
            var activity = Glimpse.Indexing.IndexActivity.Of(service.Catalog);
            double rate = activity.IsWorking ? s.RecentImagesPerSecond : 0;
            double? eta = rate > 0 ? Math.Round(s.Left / rate) : null;
            return Results.Json(new { s.Total, s.Done, s.Pending, activity.InProgress, activity.Abandoned, s.Failed, s.Missing, ImagesPerSecond = Math.Round(rate, 2), EtaSeconds = eta, Model = service.Model.Name }, CliContext.Json);
        });

        app.MapGet("/api/search", (string? q, int? limit, int? offset) =>
            string.IsNullOrWhiteSpace(q)
                ? Results.BadRequest(new { error = "q (the query text) is required" })
                : Results.Json(new { Results = service.SearchText(q, Clamp(limit), Math.Max(0, offset ?? 0)) }, CliContext.Json));

        app.MapPost("/api/search/image", async (HttpRequest request, int? limit, int? offset) =>
        {
            byte[] body;
            try
            {
                using var buffer = new MemoryStream();
                if (request.HasFormContentType)
                {
                    var form = await request.ReadFormAsync();
                    if (form.Files.Count == 0)
                        return Results.BadRequest(new { error = "no image in the form" });
                    await form.Files[0].CopyToAsync(buffer);
                }
                else
                {
                    await request.Body.CopyToAsync(buffer);
                }
                body = buffer.ToArray();
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }
            try
            {
                return Results.Json(new { Results = service.SearchImage(body, Clamp(limit), Math.Max(0, offset ?? 0)) }, CliContext.Json);
            }
            catch (ImageDecodeException e)
            {
                return Results.BadRequest(new { error = $"not a usable image: {e.Message}" });
            }
        });

        app.MapGet("/api/similar/{id:long}", (long id, int? limit, int? offset) =>
            service.SearchSimilar(id, Clamp(limit), Math.Max(0, offset ?? 0)) is { } hits
                ? Results.Json(new { Results = hits }, CliContext.Json)
                : Results.NotFound());

        app.MapGet("/api/image/{id:long}", (long id) =>
        {
            if (service.FileOf(id) is not { } file || !File.Exists(file))
                return Results.NotFound();
            try
            {
                // What browsers show is sent as it is; HEIC, AVIF, JPEG XL, TIFF and RAW as a large JPEG.
                if (BrowserContentType(file) is { } type)
                    return Results.File(file, type, enableRangeProcessing: true);
                return Results.Bytes(Thumbnailer.Make(File.ReadAllBytes(file), FullViewSide, fileName: file), "image/jpeg");
            }
            catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException)
            {
                return Results.Content(Placeholder, "image/svg+xml");
            }
        });

        app.MapGet("/api/thumb/{id:long}", (long id, HttpResponse response) =>
        {
            string? file = service.FileOf(id);
            if (file is null)
                return Results.NotFound();
            response.Headers.CacheControl = "private, max-age=86400";
            string cacheDir = Path.Combine(Path.GetDirectoryName(service.Catalog.Location)!, "thumbs");
            string cached = Path.Combine(cacheDir, $"{id}-{ThumbSide}.jpg");
            try
            {
                var source = new FileInfo(file);
                if (File.Exists(cached) && File.GetLastWriteTimeUtc(cached) >= source.LastWriteTimeUtc)
                    return Results.File(cached, "image/jpeg");
                byte[] thumb = Thumbnailer.Make(File.ReadAllBytes(file), ThumbSide, fileName: file);
                Directory.CreateDirectory(cacheDir);
                string temp = cached + $".{Environment.CurrentManagedThreadId}.tmp";
                File.WriteAllBytes(temp, thumb);
                File.Move(temp, cached, overwrite: true);
                return Results.Bytes(thumb, "image/jpeg");
            }
            catch (Exception e) when (e is ImageDecodeException or IOException or UnauthorizedAccessException)
            {
                // A broken or vanished image gets a placeholder, never an error the page would retry.
                response.Headers.CacheControl = "no-store";
                return Results.Content(Placeholder, "image/svg+xml");
            }
        });
        return app;
    }

    static int Clamp(int? limit) => Math.Clamp(limit ?? 24, 1, 500);

    const string Placeholder = """<svg xmlns="http://www.w3.org/2000/svg" width="256" height="192"><rect width="100%" height="100%" fill="#ddd"/><text x="50%" y="50%" font-size="18" text-anchor="middle" fill="#888">no preview</text></svg>""";

    /// <summary>The long side of the JPEG sent for a picture browsers cannot show.</summary>
    const int FullViewSide = 2560;

    /// <summary>The content type of a file a browser shows as it is, by its bytes; null for the formats it does not.</summary>
    static string? BrowserContentType(string file)
    {
        var head = new byte[ImageFormatDetector.HeaderBytes];
        int read;
        using (var stream = File.OpenRead(file))
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return ImageFormatDetector.Detect(head.AsSpan(0, read), file) switch
        {
            ImageFormat.Jpeg => "image/jpeg",
            ImageFormat.Png => "image/png",
            ImageFormat.Gif => "image/gif",
            ImageFormat.WebP => "image/webp",
            ImageFormat.Bmp => "image/bmp",
            _ => null,
        };
    }

    static string Page(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"wwwroot/{name}")
            ?? throw new InvalidOperationException($"the page {name} is not embedded in this build.");
        return new StreamReader(stream).ReadToEnd();
    }
}
