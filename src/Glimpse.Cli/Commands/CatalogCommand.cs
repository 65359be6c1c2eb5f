using System.CommandLine;
using Glimpse.Catalog;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse catalog copy SRC DST</c> and <c>glimpse catalog pgvector</c>: moving catalogs between back-ends.</summary>
internal static class CatalogCommand
{
    public static Command Create(CliContext cli)
    {
        var source = new Argument<string>("SRC") { Description = "The catalog to copy: a file, or postgres://user@host:port/db?root=NAME." };
        var target = new Argument<string>("DST") { Description = "Where to copy it: a file, or postgres://user@host:port/db?root=NAME. Created if missing; must hold no other model's vectors." };
        var json = CommonOptions.Json();
        var copy = new Command("copy", "Copy a whole catalog (SQLite to PostgreSQL or back) with its vectors, then compare both row by row. Interrupted? Run it again: rows already copied are kept.")
        {
            source, target, json,
        };
        copy.SetAction((parse, token) =>
        {
            StopSignal stop = cli.Stop;
            using ICatalog? from = cli.OpenExisting(CatalogAddress.Parse(parse.GetValue(source)!), "nothing to copy (SRC is a catalog file or a postgres:// address)");
            if (from is null)
                return Task.FromResult(ExitCodes.Error);
            using ICatalog to = CatalogAddress.Parse(parse.GetValue(target)!).Open();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan lastReport = TimeSpan.Zero;
            CopyReport report = CatalogCopier.Copy(from, to, rows =>
            {
                if (clock.Elapsed - lastReport < TimeSpan.FromSeconds(cli.ErrIsTerminal ? 0.5 : 10))
                    return;
                lastReport = clock.Elapsed;
                cli.Warn($"copied {rows} rows ({rows / clock.Elapsed.TotalSeconds:0}/s)");
            }, stop.Token);

            if (parse.GetValue(json))
                cli.WriteJson(new { Source = from.Location, Target = to.Location, report.SourceRows, report.Copied, report.Verified, report.Ok, report.Mismatches });
            else
            {
                cli.Out.WriteLine($"copied {report.Copied} of {report.SourceRows} rows from {from.Location} to {to.Location} " +
                                  $"({report.SourceRows - report.Copied} were there already); {report.Verified} verified row by row");
                foreach (string mismatch in report.Mismatches)
                    cli.Out.WriteLine($"MISMATCH {mismatch}");
            }
            return Task.FromResult(report.Ok ? ExitCodes.Ok : ExitCodes.Error);
        });

        var library = new Argument<string>("CATALOG") { Description = "postgres://user@host:port/db?root=NAME" };
        var pgvector = new Command("pgvector", "Enable search inside PostgreSQL with pgvector's HNSW index, where the server has the extension (fills the vector column for what is stored).")
        {
            library,
        };
        pgvector.SetAction(parse =>
        {
            var address = CatalogAddress.Parse(parse.GetValue(library)!);
            if (!address.IsPostgres)
            {
                cli.Warn("pgvector is for a PostgreSQL catalog (postgres://...).");
                return ExitCodes.Usage;
            }
            using ICatalog store = address.Open(cli.Warn, cli.Stop.Token);
            if (!store.EnableInDatabaseSearch())
            {
                cli.Warn($"{store.Location}: the server has no pgvector extension (CREATE EXTENSION vector is unavailable); search runs in Glimpse instead.");
                return ExitCodes.Error;
            }
            cli.Out.WriteLine($"{store.Location}: pgvector enabled; 'glimpse search --in-database' uses its HNSW index.");
            return ExitCodes.Ok;
        });
        var backupTo = new Argument<string>("DST") { Description = "A new SQLite file for the backup (never an existing one)." };
        var backupRoot = new Option<string>("--root") { Description = "The library whose catalog to back up (ROOT/.glimpse/catalog.db).", DefaultValueFactory = _ => "." };
        var backupCatalog = CommonOptions.Catalog();
        var backup = new Command("backup", "Write a consistent copy of a catalog, also while an index run writes to it: keep this, not a copy of the catalog's files (a live catalog's latest commits are in its -wal file).")
        {
            backupTo, backupRoot, backupCatalog,
        };
        backup.SetAction(parse =>
        {
            using ICatalog? from = cli.OpenExisting(parse.GetValue(backupRoot)!, parse.GetValue(backupCatalog));
            if (from is null)
                return ExitCodes.Error;
            string destination = Path.GetFullPath(parse.GetValue(backupTo)!);
            from.BackupTo(destination, cli.Stop.Token);
            cli.Out.WriteLine($"backed up {from.Location} to {destination} ({new FileInfo(destination).Length / 1048576.0:0.0} MB)");
            return ExitCodes.Ok;
        });
        return new Command("catalog", "Work with whole catalogs: back up, copy between SQLite and PostgreSQL, enable pgvector.") { backup, copy, pgvector };
    }
}
