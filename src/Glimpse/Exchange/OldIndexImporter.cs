using System.Numerics.Tensors;
using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Numpy;
using Microsoft.Data.Sqlite;

namespace Glimpse.Exchange;

/// <summary>What an import found: how many rows it adopted, queued again, or could not use, by reason.</summary>
public sealed record ImportReport(int Rows, int Adopted, int Pending, int Skipped, long UnreferencedVectors, IReadOnlyDictionary<string, int> Problems);

/// <summary>
/// Adopts an index made the old way (<c>metadata.db</c> with <c>images(file_path, embedding_index)</c>
/// plus <c>embeddings.npy</c>), checking every row instead of trusting it: the old design committed
/// pointers before vectors and split work by <c>id % workers</c>, so dangling and shared indexes,
/// zero rows and files that moved away are expected. Good rows become done with their vector;
/// rows whose file exists but whose vector is unusable become pending with the reason, to be
/// embedded by the next <c>glimpse index</c>.
/// </summary>
public static class OldIndexImporter
{
    public static ImportReport Import(string oldDir, string root, ICatalog catalog, ModelIdentity model)
    {
        string metadata = Path.Combine(oldDir, NpyExporter.MetadataFile);
        string embeddings = Path.Combine(oldDir, NpyExporter.EmbeddingsFile);
        foreach (string required in new[] { metadata, embeddings })
            if (!File.Exists(required))
                throw new CatalogException($"{oldDir} is not an old-layout index: {Path.GetFileName(required)} is missing.");

        catalog.BindModel(model);
        var (vectors, shape) = NpyFile.Read(embeddings);
        if (shape.Length != 2)
            throw new CatalogException($"{embeddings} has shape ({string.Join(", ", shape)}); an (N, D) array is needed.");
        long n = shape[0];
        int dim = (int)shape[1];
        if (dim != model.Dimension)
            throw new CatalogException($"{embeddings} holds {dim}-d vectors but the model makes {model.Dimension}-d ones: it was made with another model.");

        List<(string Path, long? Index)> rows = ReadRows(metadata);
        var owners = rows.Where(r => r.Index is not null).GroupBy(r => r.Index!.Value).ToDictionary(g => g.Key, g => g.Count());
        var problems = new Dictionary<string, int>();
        var adopt = new List<(ScannedFile, float[])>();
        var pending = new List<(ScannedFile, string)>();
        int skipped = 0;
        string fullRoot = Path.GetFullPath(root);

        foreach (var (path, index) in rows)
        {
            string full = Path.GetFullPath(Path.Combine(fullRoot, path));
            string relative = Path.GetRelativePath(fullRoot, full).Replace('\\', '/');
            if (relative.StartsWith("../", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            {
                Count(problems, "file outside the library root");
                skipped++;
                continue;
            }
            var info = new FileInfo(full);
            if (!info.Exists)
            {
                Count(problems, "file no longer exists");
                skipped++;
                continue;
            }
            var file = new ScannedFile(relative, info.Length, (info.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100);

            string? broken = index switch
            {
                null => "no embedding_index",
                < 0 => "embedding_index out of range (dangling pointer)",
                var i when i >= n => "embedding_index out of range (dangling pointer)",
                var i when owners[i.Value] > 1 => "embedding_index shared with another file",
                _ => null,
            };
            float[]? vector = null;
            if (broken is null)
            {
                vector = vectors.AsSpan((int)(index!.Value * dim), dim).ToArray();
                broken = CheckVector(vector);
            }
            if (broken is not null)
            {
                Count(problems, broken);
                pending.Add((file, $"import: {broken}"));
                continue;
            }
            adopt.Add((file, vector!));
        }

        int adopted = catalog.Adopt(adopt);
        catalog.RegisterPending(pending);
        long referenced = owners.Keys.Count(i => i >= 0 && i < n);
        return new ImportReport(rows.Count, adopted, pending.Count, skipped, n - referenced, problems);
    }

    /// <summary>Null when the vector is usable (normalised in place if it was not unit length), else why not.</summary>
    static string? CheckVector(float[] vector)
    {
        foreach (float x in vector)
            if (!float.IsFinite(x))
                return "vector holds NaN or infinity";
        float norm = TensorPrimitives.Norm(vector);
        if (norm < 1e-6f)
            return "vector is all zeros (never written)";
        // Unit vectors are kept bit for bit; only others are scaled.
        if (Math.Abs(norm - 1) > 1e-4f)
            TensorPrimitives.Divide(vector, norm, vector);
        return null;
    }

    static List<(string, long?)> ReadRows(string metadata)
    {
        using var db = new SqliteConnection($"Data Source={metadata};Mode=ReadOnly;Pooling=False");
        db.Open();
        using var cmd = db.CreateCommand();
        cmd.CommandText = "SELECT file_path, embedding_index FROM images";
        var rows = new List<(string, long?)>();
        try
        {
            using var reader = cmd.ExecuteReader();
            while (reader.Read())
                rows.Add((reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetInt64(1)));
        }
        catch (SqliteException e)
        {
            throw new CatalogException($"{metadata} has no readable images(file_path, embedding_index) table: {e.Message}", e);
        }
        return rows;
    }

    static void Count(Dictionary<string, int> problems, string what) =>
        problems[what] = problems.GetValueOrDefault(what) + 1;
}
