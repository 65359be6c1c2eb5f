using System.CommandLine;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse models list|pull|remove</c>: the per-user model cache.</summary>
internal static class ModelsCommand
{
    public static Command Create(CliContext cli)
    {
        var json = CommonOptions.Json();
        var list = new Command("list", "Show cached models: name, layout, dimension, size on disk, folder.") { json };
        list.SetAction(parse =>
        {
            var cache = new ModelCache();
            var entries = cache.List();
            if (parse.GetValue(json))
                cli.WriteJson(new { cache.Root, Models = entries });
            else
            {
                cli.Out.WriteLine($"cache: {cache.Root}");
                foreach (var e in entries)
                    cli.Out.WriteLine($"{e.Name,-28} {e.Layout,-12} {(e.Dimension is { } d ? d + "-d" : "?"),6} {e.Bytes / 1e6,9:0.0} MB  {e.Path}{(e.Problem is null ? "" : "  (" + e.Problem + ")")}");
            }
            return ExitCodes.Ok;
        });

        var pullName = new Argument<string>("NAME") { Description = "A model of the Immich collection on Hugging Face, e.g. ViT-B-32__openai.", DefaultValueFactory = _ => ModelCache.DefaultModel };
        var offline = new Option<bool>("--offline") { Description = "Forbid network use (also GLIMPSE_OFFLINE=1)." };
        var pull = new Command("pull", "Download a model into the cache (resumes an interrupted download; checks every file's sha256). GLIMPSE_HF_ENDPOINT sets a mirror.") { pullName, offline };
        pull.SetAction(async (parse, token) =>
        {
            string name = parse.GetValue(pullName)!;
            var cache = new ModelCache();
            if (cache.Resolve(name) is { } found && !Directory.Exists(name))
            {
                cli.Out.WriteLine(found);
                return ExitCodes.Ok;
            }
            if (ModelResolver.IsOffline(parse.GetValue(offline)))
            {
                cli.Warn($"model {name} is not cached and offline mode forbids downloading it.");
                return ExitCodes.Error;
            }
            cli.Out.WriteLine(await ModelResolver.PullAsync(cli, cache, name, cli.Stop.Token));
            return ExitCodes.Ok;
        });

        var removeName = new Argument<string>("NAME") { Description = "The cached model's name." };
        var remove = new Command("remove", "Delete a cached model.") { removeName };
        remove.SetAction(parse =>
        {
            string name = parse.GetValue(removeName)!;
            if (!new ModelCache().Remove(name))
            {
                cli.Warn($"no cached model named {name} (see 'glimpse models list').");
                return ExitCodes.Error;
            }
            cli.Out.WriteLine($"removed {name}");
            return ExitCodes.Ok;
        });

        return new Command("models", "The per-user model cache ($GLIMPSE_MODELS, else ~/.cache/glimpse/models).") { list, pull, remove };
    }
}
