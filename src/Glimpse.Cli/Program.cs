using System.CommandLine;
using Glimpse.Catalog;
using Glimpse.Cli;
using Glimpse.Cli.Commands;
using Glimpse.Models;

var context = new CliContext();
var root = new RootCommand("Glimpse: a crash-safe CLIP embedding index of a photo library, searchable by text or example image.")
{
    IndexCommand.Create(context),
    StatusCommand.Create(context),
    FailedCommand.Create(context),
    PreprocessCommand.Create(context),
};

try
{
    ParseResult parsed = root.Parse(args);
    // Signals are ours (StopSignal): indexing must commit before it exits, however long that takes.
    return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });
}
catch (Exception e) when (e is ModelFolderException or CatalogException)
{
    context.Warn(e.Message);
    return ExitCodes.Error;
}
