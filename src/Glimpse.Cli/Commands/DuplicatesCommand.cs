using System.CommandLine;
using Glimpse.Search;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse duplicates [ROOT] --threshold 0.95</c>: groups of near-identical images.</summary>
internal static class DuplicatesCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var threshold = new Option<float>("--threshold") { Description = "Cosine similarity at or above which two images are duplicates. 0.95 catches re-encodes and resizes; 0.99 only near-exact copies.", DefaultValueFactory = _ => 0.95f };
        var json = CommonOptions.Json();
        var command = new Command("duplicates", "Group images whose vectors are nearly the same (copies, re-encodes, resized versions).") { root, catalog, threshold, json };
        command.SetAction(parse =>
        {
            using var store = cli.OpenExisting(parse.GetValue(root)!, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            bool useAnn = store.CountDone() > NearDuplicates.ExactUpTo;
            if (useAnn)
                SearchCommand.PrepareAnn(cli, store, complete: true); // pairs of rows newer than the index would be missed
            var groups = NearDuplicates.Find(store, parse.GetValue(threshold), useAnn);
            if (parse.GetValue(json))
                cli.WriteJson(groups);
            else
                foreach (var g in groups)
                {
                    cli.Out.WriteLine($"{g.Paths.Count} images, similarity >= {g.LowestLink:0.000}:");
                    foreach (string path in g.Paths)
                        cli.Out.WriteLine($"  {path}");
                }
            return ExitCodes.Ok;
        });
        return command;
    }
}
