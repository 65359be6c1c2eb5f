namespace Glimpse.Catalog;

/// <summary>
/// What <c>glimpse verify</c> checks and how it judges it, the same for every back-end: each
/// back-end counts with its own queries and hands the counts in; the checks' names, thresholds
/// and wording live here.
/// </summary>
internal sealed class VerifyChecklist(ModelIdentity? model, CatalogCounters counters)
{
    readonly List<VerifyProblem> _problems = [];

    /// <summary>The storage's own consistency check (SQLite's integrity_check), when it has one: "ok" alone is sound.</summary>
    public void StorageIntegrity(IReadOnlyList<string> messages)
    {
        if (messages is not ["ok"])
            Add("integrity", messages.Count, string.Join("; ", messages.Take(3)));
    }

    public void SharedIndexes(long extraRows) => Add("duplicate embedding_index", extraRows, "two images share an embedding_index");

    /// <summary>Holes are expected where images were removed (prune, forget); more holes than removals are not.</summary>
    /// <param name="distinctIndexes">How many distinct embedding_index values rows hold.</param>
    /// <param name="span">The highest embedding_index plus one (0 with none).</param>
    public void Density(long distinctIndexes, long span) =>
        Add("non-dense embedding_index", Math.Max(0, span - distinctIndexes - counters.RemovedImages),
            $"indexes 0..{span - 1} hold {distinctIndexes} images; {counters.RemovedImages} were removed");

    /// <param name="rows">Rows whose embedding_index is at or past <see cref="CatalogCounters.NextEmbeddingIndex"/>.</param>
    public void BeyondCounter(long rows) =>
        Add("embedding_index beyond the counter", rows,
            $"the next index to give is {counters.NextEmbeddingIndex}: a later commit would give one twice");

    public void DoneWithoutVector(long rows, string examplePath) => Add("done without a vector", rows, examplePath);

    public void DoneWithoutIndex(long rows, string examplePath) => Add("done without an embedding_index", rows, examplePath);

    public void OrphanVectors(long vectors) => Add("vector without an image", vectors, "vectors whose image row is gone");

    /// <summary>Every stored vector, read once: a vector set needs its model, and each vector must fit it.</summary>
    /// <param name="vectors">How many vectors are stored.</param>
    /// <param name="readBlobs">Reads every stored vector with its image's path; called only when there is a model to check against.</param>
    public void Vectors(long vectors, Func<IEnumerable<(string Path, byte[] Blob)>> readBlobs)
    {
        if (model is null)
        {
            Add("no model recorded", vectors, "the catalog holds vectors but names no model");
            return;
        }
        var audit = new VectorAudit(model.Dimension);
        foreach (var (path, blob) in readBlobs())
            audit.Inspect(path, blob);
        audit.Report(Add);
    }

    public VerifyReport Report(long rows, long vectors) => new(rows, vectors, _problems);

    void Add(string check, long count, string detail)
    {
        if (count > 0)
            _problems.Add(new VerifyProblem(check, count, detail));
    }
}
