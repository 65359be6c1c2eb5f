using System.CommandLine;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse prune [ROOT]</c>: delete the images a scan found gone, vectors and all.</summary>
internal static class PruneCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var command = new Command("prune", "Delete the entries of images that 'glimpse index' found gone (status missing). Until then a moved file reuses its vector.")
        {
            root, catalog,
        };
        command.SetAction(parse =>
        {
            using var store = cli.OpenExisting(parse.GetValue(root)!, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            cli.Out.WriteLine($"pruned {store.PruneMissing()} missing images");
            return ExitCodes.Ok;
        });
        return command;
    }
}
