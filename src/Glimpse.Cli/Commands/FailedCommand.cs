using System.CommandLine;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse failed [ROOT]</c>: every failed image with its stage and reason.</summary>
internal static class FailedCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("failed", "List the images that could not be embedded, with the stage and reason. 'glimpse index --retry-failed' tries them again.")
        {
            root, catalog, json,
        };
        command.SetAction(parse =>
        {
            using var store = cli.OpenExisting(parse.GetValue(root)!, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            var failed = store.ListFailed();
            if (parse.GetValue(json))
                cli.WriteJson(failed);
            else
                foreach (var f in failed)
                    cli.Out.WriteLine($"{f.Path}\t{f.Stage}: {f.Reason}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
