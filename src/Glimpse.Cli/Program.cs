using System.CommandLine;
using System.CommandLine.Help;
using Glimpse.Catalog;
using Glimpse.Cli;
using Glimpse.Cli.Commands;
using Glimpse.Models;

var context = new CliContext();
// A plain command named "glimpse" rather than a RootCommand, whose name would be the assembly's
// (Glimpse.Cli): help and errors then say what users type. It takes help and version as a root does.
var root = new Command("glimpse", "Glimpse: a crash-safe CLIP embedding index of a photo library, searchable by text or example image.")
{
    new HelpOption(),
    new VersionOption(),
    IndexCommand.Create(context),
    WatchCommand.Create(context),
    StatusCommand.Create(context),
    FailedCommand.Create(context),
    PreprocessCommand.Create(context),
    PruneCommand.Create(context),
    ForgetCommand.Create(context),
    VerifyCommand.Create(context),
    ExportCommand.Create(context),
    ImportCommand.Create(context),
    SearchCommand.CreateSearch(context),
    SearchCommand.CreateSimilar(context),
    TokenizeCommand.Create(context),
    DuplicatesCommand.Create(context),
    ModelsCommand.Create(context),
    CatalogCommand.Create(context),
    Glimpse.Cli.Serve.ServeCommand.Create(context),
};

try
{
    ParseResult parsed = root.Parse(args);
    if (parsed.Errors.Count > 0)
    {
        // The parser's own message and help, and the exit code that means "usage".
        await parsed.InvokeAsync();
        return ExitCodes.Usage;
    }
    // Signals are ours (StopSignal): indexing must commit before it exits, however long that takes.
    int code = await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false });
    return code;
}
catch (Exception e) when (e is OperationCanceledException && context.Stop.IsStopping)
{
    // A command stopped by SIGINT/SIGTERM where it had nothing to finish: one line, and the
    // signal's exit code (130, 143), never "error: OperationCanceledException".
    context.Warn("stopped; run the same command again to continue.");
    return context.Stop.ExitCode ?? ExitCodes.Interrupted;
}
catch (Exception e) when (e is ModelFolderException or CatalogException or ModelDownloadException)
{
    context.Warn(e.Message);
    return ExitCodes.Error;
}
catch (Exception e)
{
    // One line for people; the whole trace only when asked for.
    context.Warn($"error: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    if (Environment.GetEnvironmentVariable("GLIMPSE_DEBUG") == "1")
        context.Err.WriteLine(e);
    return ExitCodes.Error;
}
