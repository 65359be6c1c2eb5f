using Glimpse.Catalog;
using Glimpse.Catalog.Postgres;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Catalog;

// Issue 8, items 1, 2 and 3: addresses, the claim plan, and pgvector where the server has it.
public class PostgresCatalogTests
{
    static readonly ModelIdentity Model = new("test-model", 4, new string('d', 64), "size=224");

    [Fact]
    public void A_postgres_url_names_server_database_and_library_and_never_shows_the_password()
    {
        var address = CatalogAddress.Parse("postgres://ann:s3cret@db.example:6543/photos?root=nas&sslmode=disable");
        Assert.True(address.IsPostgres);
        Assert.Equal("nas", address.RootName);
        Assert.Equal("postgres://ann@db.example:6543/photos?root=nas", address.Display);
        Assert.DoesNotContain("s3cret", address.Display);
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(address.ConnectionString);
        Assert.Equal(("db.example", 6543, "photos", "ann", "s3cret"), (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password));
        Assert.Equal(Npgsql.SslMode.Disable, builder.SslMode);
    }

    [Fact]
    public void A_connection_string_with_Root_and_a_plain_path_are_told_apart()
    {
        var fromConnectionString = CatalogAddress.Parse("Host=localhost;Port=5433;Database=g;Username=u;Root=library-1");
        Assert.Equal("library-1", fromConnectionString.RootName);
        Assert.Equal("postgres://u@localhost:5433/g?root=library-1", fromConnectionString.Display);
        Assert.Equal(CatalogAddress.DefaultRootName, CatalogAddress.Parse("postgresql://u@h/g").RootName);

        var file = CatalogAddress.Parse("photos/.glimpse/catalog.db");
        Assert.False(file.IsPostgres);
        Assert.Equal(Path.GetFullPath("photos/.glimpse/catalog.db"), file.SqlitePath);
        Assert.Throws<CatalogException>(() => CatalogAddress.Parse("postgres://u@h/g?root=../etc"));
    }

    [PostgresFact]
    public void Claim_query_walks_the_partial_index_of_unfinished_rows()
    {
        using var catalog = new PostgresCatalog(CatalogAddress.Parse(PostgresServer.NewLibrary("plan")));
        catalog.BindModel(Model);
        catalog.Register(Enumerable.Range(0, 20000).Select(i => new ScannedFile($"p/{i:D6}.jpg", 1, 1)).ToList());
        // Most of a big library is done: the claim must not read those rows.
        while (catalog.Claim("w", 5000, TimeSpan.FromMinutes(1)) is { Count: > 0 } batch && catalog.CountDone() < 19000)
            catalog.Commit("w", batch.Select(c => new EmbeddedImage(c.Id, [1, 0, 0, 0])).ToList(), []);
        catalog.ReleaseClaims("w");
        using (var conn = PostgresServer.Connect())
        using (var analyze = conn.CreateCommand())
        {
            analyze.CommandText = "ANALYZE glimpse.images";
            analyze.ExecuteNonQuery();
        }
        string plan = catalog.ExplainClaimPlan();
        Assert.Contains("images_unfinished", plan);
        Assert.DoesNotContain("Seq Scan", plan);
    }

    [PostgresFact]
    public void A_wrong_password_is_one_clear_line_that_does_not_print_it()
    {
        string url = PostgresServer.Url!.Replace("glimpse@", "glimpse:not-the-password@") + "?root=x";
        var (code, stdout, stderr) = CliProcess.Run(["status", "--catalog", url], env: new Dictionary<string, string> { ["PGPASSWORD"] = "" });
        Assert.Equal(1, code);
        Assert.Contains("cannot open the catalog postgres://glimpse@", stderr);
        Assert.Contains("password authentication failed", stderr);
        Assert.DoesNotContain("not-the-password", stderr + stdout);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    [PgvectorFact]
    public void With_pgvector_the_database_finds_the_same_nearest_images_as_exact_search()
    {
        using var catalog = new PostgresCatalog(CatalogAddress.Parse(PostgresServer.NewLibrary("pgvector")));
        var model = Model with { Dimension = 8 };
        catalog.BindModel(model);
        catalog.Register(Enumerable.Range(0, 200).Select(i => new ScannedFile($"v/{i}.jpg", 1, 1)).ToList());
        var random = new Random(5);
        var claimed = catalog.Claim("w", 200, TimeSpan.FromMinutes(1));
        catalog.Commit("w", claimed.Select(c => new EmbeddedImage(c.Id, Vectors.RandomUnit(random, 8))).ToList(), []);
        Assert.True(catalog.EnablePgvector());

        float[] query = Vectors.RandomUnit(random, 8);
        var exact = Glimpse.Search.ExactSearch.Search(Glimpse.Search.VectorSet.Load(catalog), query, 5);
        var inDatabase = catalog.SearchInDatabase(query, 5);
        Assert.Equal(exact.Select(h => h.Path), inDatabase.Select(h => h.Path));
    }
}

/// <summary>A fact that needs pgvector on the test server: reported skipped where CREATE EXTENSION vector is unavailable (Debian bookworm has no package).</summary>
internal sealed class PgvectorFactAttribute : FactAttribute
{
    public PgvectorFactAttribute()
    {
        if (PostgresServer.Url is null)
            Skip = "no PostgreSQL server: run ./test";
        else if (!Available())
            Skip = "pgvector is not available on the test server (CREATE EXTENSION vector fails): in-database search is untested here";
    }

    static bool Available()
    {
        try
        {
            using var conn = PostgresServer.Connect();
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "CREATE EXTENSION IF NOT EXISTS vector";
            cmd.ExecuteNonQuery();
            return true;
        }
        catch (Npgsql.PostgresException)
        {
            return false;
        }
    }
}
