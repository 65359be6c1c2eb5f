using System.CommandLine;
using Glimpse.Catalog;
using Glimpse.Exchange;
using Glimpse.Models;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse import OLD_DIR --root ROOT --model DIR</c>: adopt an index made the old way.</summary>
internal static class ImportCommand
{
    public static Command Create(CliContext cli)
    {
        var oldDir = new Argument<string>("OLD_DIR") { Description = "The folder with the old index's metadata.db and embeddings.npy." };
        var rootOption = new Option<string>("--root") { Description = "The library folder the old index's file paths refer to.", Required = true };
        var model = CommonOptions.Model();
        model.Required = true;
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("import", "Adopt an old-layout index (metadata.db + embeddings.npy): every row is checked; good ones become done, broken ones pending with the reason, and a summary says what was broken. Pass the model that made the old vectors.")
        {
            oldDir, rootOption, model, catalog, json,
        };
        command.SetAction(parse =>
        {
            string root = Path.GetFullPath(parse.GetValue(rootOption)!);
            using var encoder = new ClipImageEncoder(ModelFolder.Open(ModelResolver.ResolveLocal(parse.GetValue(model)!)), 1);
            using var store = CliContext.Address(root, parse.GetValue(catalog)).Open();
            ImportReport report = OldIndexImporter.Import(parse.GetValue(oldDir)!, root, store, encoder.Identity);
            if (parse.GetValue(json))
                cli.WriteJson(report);
            else
            {
                cli.Out.WriteLine($"{report.Rows} rows: {report.Adopted} imported with their vectors, {report.Pending} queued to embed again, {report.Skipped} skipped");
                foreach (var (problem, count) in report.Problems.OrderByDescending(p => p.Value))
                    cli.Out.WriteLine($"  {count,7}  {problem}");
                if (report.UnreferencedVectors > 0)
                    cli.Out.WriteLine($"  {report.UnreferencedVectors,7}  vectors in embeddings.npy that no row points to");
                if (report.Pending > 0)
                    cli.Out.WriteLine($"run 'glimpse index {root} --model ...' to embed the {report.Pending} queued images.");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
