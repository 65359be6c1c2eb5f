using System.CommandLine;
using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Cli.Commands;

/// <summary><c>glimpse search [ROOT] QUERY...</c> and <c>glimpse similar [ROOT] PATH</c>.</summary>
internal static class SearchCommand
{
    sealed record Output(Option<int> Limit, Option<int> Offset, Option<float?> MinScore, Option<bool> Json, Option<bool> Paths);

    /// <summary><c>--exact</c> and <c>--ann</c>, and the one rule that picks between exact search and the ANN index.</summary>
    sealed record Mode(Option<bool> Exact, Option<bool> Ann)
    {
        public static Mode AddTo(Command command)
        {
            var mode = new Mode(
                new Option<bool>("--exact") { Description = $"Scan every vector (the default up to {AnnThreshold:N0} images): exact, about 50 ms per million on 2 cores." },
                new Option<bool>("--ann") { Description = "Use the HNSW index beside the catalog (the default above that size; built on first use, then updated incrementally): milliseconds once open, recall@10 about 0.97." });
            command.Options.Add(mode.Exact);
            command.Options.Add(mode.Ann);
            return mode;
        }

        public bool UsesAnn(ParseResult parse, Lazy<long> done) => !parse.GetValue(Exact) && (parse.GetValue(Ann) || done.Value > AnnThreshold);
    }

    static Output AddOutputOptions(Command command)
    {
        var o = new Output(
            new Option<int>("--limit", "-n") { Description = "How many results.", DefaultValueFactory = _ => 10 },
            new Option<int>("--offset") { Description = "Skip this many results first (paging).", DefaultValueFactory = _ => 0 },
            new Option<float?>("--min-score") { Description = "Only results at least this similar (cosine, -1..1)." },
            CommonOptions.Json(),
            new Option<bool>("--paths") { Description = "Print only the paths, one per line (for pipes)." });
        command.Options.Add(o.Limit);
        command.Options.Add(o.Offset);
        command.Options.Add(o.MinScore);
        command.Options.Add(o.Json);
        command.Options.Add(o.Paths);
        return o;
    }

    public static Command CreateSearch(CliContext cli)
    {
        var words = new Argument<string[]>("QUERY") { Description = "[ROOT] then the query: text, image files, or both combined: \"dog\" + beach.jpg - \"people\" (2:dog weighs a term twice).", Arity = ArgumentArity.ZeroOrMore };
        var image = new Option<string?>("--image") { Description = "Search by this example image." };
        var catalog = CommonOptions.Catalog();
        var model = CommonOptions.Model();
        model.Description = "The model folder. Default: the folder the catalog was indexed with.";
        var offline = CommonOptions.Offline();
        var inDatabase = new Option<bool>("--in-database") { Description = "PostgreSQL catalogs with pgvector ('glimpse catalog pgvector'): let the server's HNSW index find the results." };
        var command = new Command("search", "Search the library by text, by example image, or by a weighted combination. Sees every batch committed so far, also while indexing runs.")
        {
            words, image, catalog, model, offline,
        };
        var mode = Mode.AddTo(command);
        command.Options.Add(inDatabase);
        var output = AddOutputOptions(command);
        command.SetAction(parse =>
        {
            var args = parse.GetValue(words)!.ToList();
            string root = ".";
            // The first word is the library root when it names a folder (a query is rarely one).
            if (args.Count >= 1 && Directory.Exists(args[0]))
            {
                root = args[0];
                args.RemoveAt(0);
            }
            if (parse.GetValue(image) is { } example)
                args.AddRange(args.Count > 0 ? ["+", example] : [example]);
            var terms = QueryTerm.Parse(args, File.Exists);
            if (terms.Count == 0)
            {
                cli.Warn("nothing to search for: give a text, an image (--image PATH) or both.");
                return ExitCodes.Usage;
            }

            using var store = cli.OpenExisting(root, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            if (store.Model is null)
            {
                cli.Warn("the catalog has no vectors yet: run 'glimpse index' first.");
                return ExitCodes.Usage;
            }
            string folderPath = ModelResolver.ResolveForCatalogAsync(cli, parse.GetValue(model), store, parse.GetValue(offline), cli.Stop.Token)
                .GetAwaiter().GetResult();
            var folder = ModelResolver.OpenForCatalog(folderPath, store);

            var clock = Stopwatch.StartNew();
            using var embedder = new QueryEmbedder(folder);
            float[] query = embedder.Embed(terms);
            int limit = parse.GetValue(output.Limit), offset = parse.GetValue(output.Offset);
            float minScore = parse.GetValue(output.MinScore) ?? float.NegativeInfinity;
            var done = new Lazy<long>(store.CountDone); // counted only where it decides something (a full pass at a million rows)
            if (parse.GetValue(inDatabase))
            {
                if (!store.SearchesInDatabase)
                {
                    cli.Warn("--in-database needs a PostgreSQL catalog with pgvector enabled ('glimpse catalog pgvector CATALOG').");
                    return ExitCodes.Usage;
                }
                var found = store.SearchInDatabase(query, limit + offset).Skip(offset).Where(h => h.Score >= minScore)
                    .Select(h => new SearchHit(h.Path, -1, h.Score) { ImageId = h.ImageId }).ToList();
                Print(cli, store, done.Value, found, parse, output, clock.Elapsed);
                return ExitCodes.Ok;
            }
            if (mode.UsesAnn(parse, done))
            {
                PrepareAnn(cli, store);
                Print(cli, store, done.Value, AnnIndex.Search(store, query, limit, offset, minScore), parse, output, clock.Elapsed);
                return ExitCodes.Ok;
            }
            var exact = SearchExactly(cli, store, query, limit, offset, minScore, excludeImageId: null, out long searched);
            Print(cli, store, searched, exact, parse, output, clock.Elapsed);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command CreateSimilar(CliContext cli)
    {
        var args = new Argument<string[]>("PATH") { Description = "[ROOT] then an indexed image (its stored vector is used: no inference).", Arity = ArgumentArity.OneOrMore };
        var catalog = CommonOptions.Catalog();
        var command = new Command("similar", "Images most like an indexed one, from its stored vector.") { args, catalog };
        var mode = Mode.AddTo(command);
        var output = AddOutputOptions(command);
        command.SetAction(parse =>
        {
            var values = parse.GetValue(args)!;
            string root = values.Length >= 2 ? values[0] : ".";
            string target = values[^1];
            using var store = cli.OpenExisting(root, parse.GetValue(catalog));
            if (store is null)
                return ExitCodes.Error;
            var clock = Stopwatch.StartNew();
            // One indexed lookup, not a load of every vector: at ten million images that matters.
            string relative = Path.GetRelativePath(Path.GetFullPath(root), Path.GetFullPath(target)).Replace('\\', '/');
            StoredVector? image = store.FindDone(relative) ?? store.FindDone(target.Replace('\\', '/'));
            if (image is null)
            {
                cli.Warn($"{target} is not an indexed image of {Path.GetFullPath(root)}.");
                return ExitCodes.Usage;
            }
            int limit = parse.GetValue(output.Limit), offset = parse.GetValue(output.Offset);
            float minScore = parse.GetValue(output.MinScore) ?? float.NegativeInfinity;
            var done = new Lazy<long>(store.CountDone); // counted only where it decides something (a full pass at a million rows)
            if (mode.UsesAnn(parse, done))
            {
                PrepareAnn(cli, store);
                Print(cli, store, done.Value, AnnIndex.Search(store, image.Vector, limit, offset, minScore, excludeImageId: image.ImageId), parse, output, clock.Elapsed);
                return ExitCodes.Ok;
            }
            var hits = SearchExactly(cli, store, image.Vector, limit, offset, minScore, image.ImageId, out long searched);
            Print(cli, store, searched, hits, parse, output, clock.Elapsed);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// Exact search over the memory-mapped vector file beside the catalog, brought up to date first
    /// (a fresh process then reads the page cache, not every row of the catalog). Where that file
    /// cannot be written (a read-only folder, a full disk), the vectors are read from the catalog.
    /// </summary>
    static IReadOnlyList<SearchHit> SearchExactly(CliContext cli, ICatalog store, float[] query, int limit, int offset, float minScore,
        long? excludeImageId, out long searched)
    {
        searched = 0;
        if (store.Model is null)
            return [];
        try
        {
            using var view = VectorFile.Open(store);
            searched = view.Count;
            return view.Search(store, query, limit, offset, minScore, excludeImageId);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            cli.Warn($"the vector file {VectorFile.PathFor(store)} cannot be written ({e.Message.ReplaceLineEndings(" ")}); reading the vectors from the catalog instead (slower).");
        }
        VectorSet set = VectorSet.Load(store);
        searched = set.Count;
        int row = excludeImageId is { } id ? Array.IndexOf(set.ImageIds, id) : -1;
        return ExactSearch.Search(set, query, limit, offset, minScore, row >= 0 ? new HashSet<int> { row } : null);
    }

    /// <summary>Above this many images the default is the ANN index; below, exact search is fast enough and exact.</summary>
    internal const long AnnThreshold = 1_000_000;

    /// <summary>
    /// Builds the ANN index when there is none (telling the user, it can take minutes); brings it
    /// up to date when <paramref name="complete"/> or when many rows were committed since.
    /// </summary>
    internal static void PrepareAnn(CliContext cli, ICatalog store, bool complete = false)
    {
        if (!AnnIndex.IsUsable(store))
            cli.Warn($"building the ANN index of {store.CountDone()} vectors (once; later runs update it incrementally)...");
        if (complete)
            AnnIndex.Update(store);
        else
            AnnIndex.Refresh(store);
    }

    static void Print(CliContext cli, ICatalog store, long searched, IReadOnlyList<SearchHit> hits, ParseResult parse, Output output, TimeSpan elapsed)
    {
        long left = store.CountUnfinished();
        if (left > 0 || searched == 0)
            cli.Warn($"searched {searched} indexed images; {left} not indexed yet.");
        if (parse.GetValue(output.Json))
            cli.WriteJson(new { Searched = searched, Pending = left, Milliseconds = Math.Round(elapsed.TotalMilliseconds, 1), Results = hits.Select(h => new { h.Path, Score = Math.Round(h.Score, 5) }) });
        else if (parse.GetValue(output.Paths))
            foreach (var h in hits)
                cli.Out.WriteLine(h.Path);
        else
            foreach (var h in hits)
                cli.Out.WriteLine($"{h.Score:0.0000}  {h.Path}");
    }
}
