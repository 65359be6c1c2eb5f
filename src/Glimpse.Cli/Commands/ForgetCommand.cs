using System.CommandLine;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse forget PATH...</c>: drop entries by path, folder or glob.</summary>
internal static class ForgetCommand
{
    public static Command Create(CliContext cli)
    {
        var paths = new Argument<string[]>("PATH") { Description = "Paths relative to the library root; a folder takes what is under it; '*' and '?' are wildcards (quote them).", Arity = ArgumentArity.OneOrMore };
        var rootOption = new Option<string>("--root") { Description = "The library folder.", DefaultValueFactory = _ => "." };
        var catalog = CommonOptions.Catalog();
        var command = new Command("forget", "Remove images from the catalog (their vectors too). A later index run adds them again if they are still in the folder.")
        {
            paths, rootOption, catalog,
        };
        command.SetAction(parse =>
        {
            using var store = cli.OpenExisting(parse.GetValue(rootOption)!, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            int total = 0;
            foreach (string path in parse.GetValue(paths)!)
                total += store.Forget(path);
            cli.Out.WriteLine($"forgot {total} images");
            return ExitCodes.Ok;
        });
        return command;
    }
}
