using System.CommandLine;
using Glimpse.Catalog;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse verify [ROOT]</c>: check the catalog's invariants; non-zero exit on any problem.</summary>
internal static class VerifyCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var catalog = CommonOptions.Catalog();
        var json = CommonOptions.Json();
        var command = new Command("verify", "Check the catalog: SQLite integrity (for a file), unique and dense embedding_index, a vector for every done image and an image for every vector, vector dimension, finite and unit-length vectors. Exits 1 on any problem.")
        {
            root, catalog, json,
        };
        command.SetAction(parse =>
        {
            VerifyReport report;
            string path = CliContext.Address(parse.GetValue(root)!, parse.GetValue(catalog)).Display;
            try
            {
                using var store = cli.OpenExisting(parse.GetValue(root)!, parse.GetValue(catalog));
                if (store is null)
                    return ExitCodes.Error;
                report = store.Verify();
            }
            catch (CatalogException e)
            {
                report = new VerifyReport(0, 0, [new VerifyProblem("integrity", 1, e.Message.ReplaceLineEndings(" "))]);
            }

            if (parse.GetValue(json))
                cli.WriteJson(new { Catalog = path, report.Ok, report.Rows, report.Vectors, report.Problems });
            else
            {
                cli.Out.WriteLine($"{path}: {report.Rows} images, {report.Vectors} vectors");
                foreach (var p in report.Problems)
                    cli.Out.WriteLine($"PROBLEM {p.Check}: {p.Count} ({p.Detail})");
                cli.Out.WriteLine(report.Ok ? "ok" : $"{report.Problems.Count} kinds of problem found");
            }
            return report.Ok ? ExitCodes.Ok : ExitCodes.Error;
        });
        return command;
    }
}
