using System.CommandLine;
using Glimpse.Catalog;
using Glimpse.Exchange;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse export [ROOT] --format npy|parquet OUT</c>.</summary>
internal static class ExportCommand
{
    public static Command Create(CliContext cli)
    {
        var root = CommonOptions.Root();
        var outDir = new Option<string>("--out", "-o") { Description = "The folder to write into.", Required = true };
        var format = new Option<string>("--format") { Description = "npy: embeddings.npy + metadata.db, the layout numpy scripts of the old design read. parquet: one file of (path, embedding_index, vector) for data tools.", DefaultValueFactory = _ => "npy" };
        format.AcceptOnlyFromAmong("npy", "parquet");
        var catalog = CommonOptions.Catalog();
        var rootPaths = CommonOptions.RootPath();
        var command = new Command("export", "Write the vectors of every done image for other tools. Files appear whole or not at all (written aside, then renamed).")
        {
            root, outDir, format, catalog, rootPaths,
        };
        command.SetAction(parse =>
        {
            CatalogAddress address = CliContext.Address(parse.GetValue(root)!, parse.GetValue(catalog));
            using var store = cli.OpenExisting(address, CliContext.IndexFirst(parse.GetValue(root)!));
            if (store is null)
                return ExitCodes.Error;
            string dir = parse.GetValue(outDir)!;
            string rootPath = CliContext.LibraryRoot(parse.GetValue(root)!, address, parse.GetValue(rootPaths));
            long rows = parse.GetValue(format) == "parquet"
                ? ParquetExporter.Export(store, Path.Combine(dir, ParquetExporter.FileName))
                : NpyExporter.Export(store, rootPath, dir);
            cli.Out.WriteLine($"exported {rows} vectors to {Path.GetFullPath(dir)}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
