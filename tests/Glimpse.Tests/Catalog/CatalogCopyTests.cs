using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Catalog;

// Issue 8, item 4: glimpse catalog copy, SQLite -> PostgreSQL -> SQLite, verified row by row and resumable.
public class CatalogCopyTests : IDisposable
{
    static readonly ModelIdentity Model = new("test-model", 4, new string('c', 64), "size=224") { Folder = "/models/x" };
    readonly TempDir _dir = new();

    /// <summary>A SQLite catalog with done, failed, pending, claimed and missing rows, and a hole left by a removal.</summary>
    string MakeSource(int count)
    {
        string path = Path.Combine(_dir.Path, "source.db");
        using var catalog = new SqliteCatalog(path);
        catalog.BindModel(Model);
        catalog.Register(Enumerable.Range(0, count).Select(i => new ScannedFile($"d{i % 3}/{i:D4}.jpg", 100 + i, 7 + i)).ToList());
        var claimed = catalog.Claim("w", count - 10, TimeSpan.FromMinutes(2));
        var random = new Random(3);
        catalog.Commit("w",
            claimed.Skip(2).Select(c => new EmbeddedImage(c.Id, Vectors.RandomUnit(random, 4), $"{c.Id:x16}")).ToList(),
            claimed.Take(2).Select(c => new FailedImage(c.Id, "decode", $"bad {c.Id}")).ToList());
        catalog.Claim("still-working", 3, TimeSpan.FromMinutes(2));
        catalog.Forget("d0/0003.jpg");
        return path;
    }

    [PostgresFact]
    public void A_catalog_copied_to_PostgreSQL_and_back_is_the_same_row_for_row()
    {
        string source = MakeSource(300);
        string server = PostgresServer.NewLibrary("copy");
        string back = Path.Combine(_dir.Path, "back.db");

        using (var from = new SqliteCatalog(source))
        using (var to = CatalogAddress.Parse(server).Open())
        {
            CopyReport report = CatalogCopier.Copy(from, to);
            Assert.True(report.Ok, string.Join("; ", report.Mismatches));
            Assert.Equal((299L, 299L, 299L), (report.SourceRows, report.Copied, report.Verified));
            Assert.Equal(from.ReadCounters(), to.ReadCounters());
            Assert.True(to.Verify().Ok, string.Join("; ", to.Verify().Problems));
            Assert.Equal(Model, to.Model);
        }
        using (var from = CatalogAddress.Parse(server).Open())
        using (var to = new SqliteCatalog(back))
            Assert.True(CatalogCopier.Copy(from, to).Ok);

        // Independent of the code under test: the round trip kept every field that matters.
        var original = CatalogReader.ReadAll(source);
        var roundTrip = CatalogReader.ReadAll(back);
        Assert.Equal(original.Keys.Order(), roundTrip.Keys.Order());
        foreach (var (path, row) in original)
        {
            var copy = roundTrip[path];
            Assert.Equal(row.Status == 1 ? 0 : row.Status, copy.Status); // leases stay behind
            Assert.Equal((row.EmbeddingIndex, row.Attempts, row.FailStage, row.FailReason), (copy.EmbeddingIndex, copy.Attempts, copy.FailStage, copy.FailReason));
            Assert.Equal(row.Vector, copy.Vector);
        }
    }

    [PostgresFact]
    public void An_interrupted_copy_resumes_and_a_changed_row_in_the_target_is_reported()
    {
        string source = MakeSource(1200);
        string server = PostgresServer.NewLibrary("resume");
        using var from = new SqliteCatalog(source);

        // The first run stopped after its first chunk was committed.
        using (var to = CatalogAddress.Parse(server).Open())
        {
            using var stop = new CancellationTokenSource();
            Assert.ThrowsAny<OperationCanceledException>(() => CatalogCopier.Copy(from, to, rows => stop.Cancel(), stop.Token));
            Assert.Equal(500, to.ReadRows().Count());
        }
        using (var to = CatalogAddress.Parse(server).Open())
        {
            CopyReport report = CatalogCopier.Copy(from, to);
            Assert.True(report.Ok, string.Join("; ", report.Mismatches));
            Assert.Equal((1199L, 699L), (report.SourceRows, report.Copied));
        }

        // A row that differs is caught by the row-by-row comparison, not trusted.
        using (var conn = PostgresServer.Connect())
        using (var tamper = conn.CreateCommand())
        {
            tamper.CommandText = "UPDATE glimpse.vectors SET vector = '\\x0000803f000000000000000000000000' WHERE image_id = (SELECT i.id FROM glimpse.images i JOIN glimpse.libraries l ON l.id = i.library_id WHERE l.name = @root AND i.path = 'd1/0004.jpg')";
            tamper.Parameters.AddWithValue("root", server[(server.IndexOf("?root=", StringComparison.Ordinal) + 6)..]);
            Assert.Equal(1, tamper.ExecuteNonQuery());
        }
        using (var to = CatalogAddress.Parse(server).Open())
        {
            CopyReport again = CatalogCopier.Copy(from, to);
            Assert.False(again.Ok);
            Assert.Equal("d1/0004.jpg: vector differs", Assert.Single(again.Mismatches));
        }
    }

    public void Dispose() => _dir.Dispose();
}
