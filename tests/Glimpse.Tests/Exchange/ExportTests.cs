using System.Diagnostics;
using Glimpse.Catalog;
using Glimpse.Exchange;
using Glimpse.Indexing;
using Glimpse.Models;
using Glimpse.Tests.Support;

namespace Glimpse.Tests.Exchange;

// Issue 4, item 4: the seed-compatible numpy layout, read by real numpy, and Parquet.
public class ExportTests : IDisposable
{
    readonly TempDir _dir = new();

    (string Root, string Catalog) IndexedLibrary(int count)
    {
        string root = _dir.Sub("lib");
        TestImages.Write(root, count);
        string catalog = Path.Combine(_dir.Path, "catalog.db");
        using var encoder = new ClipImageEncoder(ModelFolder.Open(SharedFiles.TinyImmich), 1);
        using var store = new SqliteCatalog(catalog);
        new IndexingPipeline(store, encoder, new IndexingOptions { BatchSize = 4 }).RunAsync(root, null, CancellationToken.None).GetAwaiter().GetResult();
        return (root, catalog);
    }

    [Fact]
    public void Npy_export_loads_in_numpy_with_rows_matching_metadata_db_after_removals()
    {
        var (root, catalogPath) = IndexedLibrary(9);
        using var catalog = new SqliteCatalog(catalogPath);
        catalog.Forget("album1"); // leaves holes in embedding_index: the export renumbers densely
        var expected = catalog.ReadVectors().ToList();
        string outDir = _dir.Sub("out");

        Assert.Equal(expected.Count, NpyExporter.Export(catalog, root, outDir));

        // Real numpy and sqlite3 check shape, dtype, C order, and that row i is the vector of the file whose embedding_index is i.
        string script = """
            import json, sqlite3, sys, numpy as np
            out = sys.argv[1]
            a = np.load(out + '/embeddings.npy')
            rows = sqlite3.connect(out + '/metadata.db').execute('SELECT file_path, embedding_index FROM images ORDER BY embedding_index').fetchall()
            print(json.dumps({'shape': list(a.shape), 'dtype': str(a.dtype), 'c': bool(a.flags['C_CONTIGUOUS']),
                              'rows': [[p, i, [float(x) for x in a[i][:4]]] for p, i in rows]}))
            """;
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add(outDir);
        using var python = Process.Start(psi)!;
        string stdout = python.StandardOutput.ReadToEnd();
        string stderr = python.StandardError.ReadToEnd();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, "python3 with numpy failed (apt-get install python3-numpy): " + stderr);

        var json = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.Equal([expected.Count, 512], json.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("float32", json.GetProperty("dtype").GetString());
        Assert.True(json.GetProperty("c").GetBoolean());
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(expected.Count, rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            Assert.Equal(Path.Combine(root, expected[i].Path), rows[i][0].GetString());
            Assert.Equal(i, rows[i][1].GetInt32());
            Assert.Equal(expected[i].Vector.Take(4), rows[i][2].EnumerateArray().Select(e => e.GetSingle()));
        }
    }

    [Fact]
    public void Parquet_export_holds_path_index_and_vector_per_row()
    {
        var (_, catalogPath) = IndexedLibrary(6);
        using var catalog = new SqliteCatalog(catalogPath);
        string file = Path.Combine(_dir.Sub("out"), "e.parquet");
        Assert.Equal(6, ParquetExporter.Export(catalog, file));

        using var reader = new ParquetSharp.ParquetFileReader(file);
        using var group = reader.RowGroup(0);
        string[] paths = group.Column(0).LogicalReader<string>().ReadAll(6);
        long[] indexes = group.Column(1).LogicalReader<long>().ReadAll(6);
        float[][] vectors = group.Column(2).LogicalReader<float[]>().ReadAll(6);
        var expected = catalog.ReadVectors().ToList();
        Assert.Equal(expected.Select(v => v.Path), paths);
        Assert.Equal(expected.Select(v => v.EmbeddingIndex), indexes);
        for (int i = 0; i < 6; i++)
            Assert.Equal(expected[i].Vector, vectors[i]);
    }

    [Fact]
    public void Export_via_the_command_replaces_files_whole()
    {
        var (root, catalogPath) = IndexedLibrary(3);
        string outDir = _dir.Sub("out");
        File.WriteAllText(Path.Combine(outDir, "embeddings.npy"), "old");
        var (code, stdout, stderr) = CliProcess.Run(["export", root, "--catalog", catalogPath, "--out", outDir]);
        Assert.True(code == 0, stderr);
        Assert.Contains("exported 3 vectors", stdout);
        Assert.Equal(3, Glimpse.Numpy.NpyFile.Read(Path.Combine(outDir, "embeddings.npy")).Shape[0]);
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp"));
    }

    public void Dispose() => _dir.Dispose();
}
