using System.Text.Json;
using Cloud.Unum.USearch;
using Glimpse.Catalog;

namespace Glimpse.Search;

/// <summary>
/// An HNSW index (USearch) kept beside the catalog as <c>catalog.db.usearch</c>. It is derived
/// data: rebuilt from the catalog whenever it is missing or was made for another model, and
/// otherwise brought up to date incrementally from the rows committed since its last update
/// (found through the catalog's done_at index). Searches open it memory-mapped, and rows
/// committed after its last update are scored exactly and merged, so results are never stale.
/// Keys are image ids; results are checked against the catalog, so removed or changed images
/// never come back from the index.
/// </summary>
public sealed class AnnIndex
{
    /// <summary>HNSW graph degree: 16 is USearch's default, a good recall/size balance for 512-d.</summary>
    const ulong Connectivity = 16;
    const ulong ExpansionAdd = 128;

    /// <summary>
    /// Candidates explored per query (HNSW ef). On clustered CLIP-like data, ef 64 (USearch's
    /// default for an opened file) gave recall@10 0.90 at a million vectors; see the README's
    /// search benchmark for the recall and latency of each setting.
    /// </summary>
    internal const ulong ExpansionSearch = 256;

    /// <param name="BoundaryRows">
    /// Done rows committed in the millisecond <paramref name="UpdatedAtMs"/>, counted before the
    /// update read any row (so each is in the index); -1 when unknown (an older index).
    /// </param>
    sealed record Meta(string ModelSha256, int Dimension, long UpdatedAtMs, long Count, long BoundaryRows = -1);

    public static string PathFor(ICatalog catalog) => catalog.DerivedDataPrefix + ".usearch";
    static string MetaPathFor(ICatalog catalog) => PathFor(catalog) + ".json";

    /// <summary>What <see cref="Update"/> did.</summary>
    public sealed record UpdateResult(bool Rebuilt, long Added, long Total);

    /// <summary>Vectors read from the catalog and added at once, on all cores.</summary>
    const int AddChunk = 16_384;

    /// <summary>Builds the index if it is missing or stale, else adds what was committed since its last update.</summary>
    public static UpdateResult Update(ICatalog catalog) => Update(catalog, AddChunk, Environment.ProcessorCount);

    /// <param name="addChunk">Vectors added per round of reserve-then-add.</param>
    /// <param name="threads">Threads adding at once (the benchmark compares 1 with all cores).</param>
    internal static UpdateResult Update(ICatalog catalog, int addChunk, int threads)
    {
        var model = catalog.Model ?? throw new CatalogException($"{catalog.Location} holds no vectors yet.");
        // One update at a time per index, across processes (two index runs ending together, a
        // search and a server): the second waits, then adds only what the first did not.
        using var exclusive = FileLock.Acquire(PathFor(catalog) + ".lock");
        Meta? meta = ReadMeta(catalog);
        // done_at is taken under the catalog's write lock, so it follows commit order: everything
        // committed after this moment has done_at >= it. Rows read below that also came later are
        // searched exactly again until the next update; the merge drops the duplicates.
        long coveredUpTo = catalog.LastCommitMs();
        long boundaryRows = RowsAt(catalog, coveredUpTo);
        bool rebuild = meta is null || meta.ModelSha256 != model.VisualSha256 || meta.Dimension != model.Dimension || !File.Exists(PathFor(catalog));

        using var index = rebuild
            ? new USearchIndex(MetricKind.Cos, ScalarKind.Float32, (ulong)model.Dimension, Connectivity, ExpansionAdd, ExpansionSearch, false)
            : new USearchIndex(PathFor(catalog), false);
        long added = 0;
        IEnumerable<StoredVector> rows = rebuild ? catalog.ReadVectors() : catalog.ReadVectorsSince(meta!.UpdatedAtMs); // the last millisecond's rows again: replaced, never missed
        foreach (StoredVector[] chunk in rows.Chunk(addChunk))
        {
            AddInParallel(index, chunk, replace: !rebuild, threads);
            added += chunk.Length;
        }

        // Both files are written aside under names of their own and renamed into place: a search
        // running now keeps the old file it mapped, and a reader never sees half a meta file.
        string unique = $"{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        string temp = $"{PathFor(catalog)}.{unique}";
        index.Save(temp);
        File.Move(temp, PathFor(catalog), overwrite: true);
        var newMeta = new Meta(model.VisualSha256, model.Dimension, coveredUpTo, (long)index.Size(), boundaryRows);
        string metaTemp = $"{MetaPathFor(catalog)}.{unique}";
        File.WriteAllText(metaTemp, JsonSerializer.Serialize(newMeta));
        File.Move(metaTemp, MetaPathFor(catalog), overwrite: true);
        return new UpdateResult(rebuild, added, newMeta.Count);
    }

    /// <summary>Adds vectors from every core; with <paramref name="replace"/>, an image already in the index (changed since) gets its new vector.</summary>
    static void AddInParallel(USearchIndex index, StoredVector[] chunk, bool replace, int threads)
    {
        if (replace)
            foreach (StoredVector v in chunk)
                if (index.Contains((ulong)v.ImageId))
                    index.Remove((ulong)v.ImageId);
        // Room for the whole chunk first, counted from the capacity (removed entries keep their
        // slots until reused): no Add below may grow the index while another runs.
        USearchNative.Reserve(index, Math.Max(index.Capacity(), index.Size()) + (ulong)chunk.Length);
        // At most Environment.ProcessorCount threads: never more than the native index has slots for.
        Parallel.For(0, chunk.Length, new ParallelOptions { MaxDegreeOfParallelism = Math.Clamp(threads, 1, Environment.ProcessorCount) },
            i => index.Add((ulong)chunk[i].ImageId, chunk[i].Vector));
    }

    /// <summary>
    /// Rows committed since the last update that a search still scores exactly before an update
    /// is worth it: an update loads and rewrites the whole index (seconds at a million), an exact
    /// pass over this many rows costs a few milliseconds per query.
    /// </summary>
    public const long FreshRowsBeforeUpdate = 5_000;

    /// <summary>
    /// Makes the index fit to search: built when missing or made for another model, updated when
    /// more than <see cref="FreshRowsBeforeUpdate"/> rows were committed since; otherwise left as
    /// it is (searches merge the fresh rows exactly). Null when nothing had to be done.
    /// </summary>
    public static UpdateResult? Refresh(ICatalog catalog) =>
        // Counted from the millisecond after the update: rows of its last millisecond are in the
        // index already (a big import commits thousands in one), and counting them would update
        // the index on every search.
        !IsUsable(catalog) || catalog.CountDoneSince(ReadMeta(catalog)!.UpdatedAtMs + 1) > FreshRowsBeforeUpdate ? Update(catalog) : null;

    /// <summary>True when an index exists for this catalog's model (it may lag behind; search merges the rest).</summary>
    public static bool IsUsable(ICatalog catalog) =>
        ReadMeta(catalog) is { } meta && catalog.Model is { } model && meta.ModelSha256 == model.VisualSha256 && File.Exists(PathFor(catalog));

    /// <summary>The nearest done images: the memory-mapped index plus an exact pass over rows committed since its update.</summary>
    public static IReadOnlyList<SearchHit> Search(ICatalog catalog, float[] query, int limit, int offset = 0,
        float minScore = float.NegativeInfinity, long? excludeImageId = null)
    {
        using var view = View.Open(catalog);
        return view.Search(query, limit, offset, minScore, excludeImageId);
    }

    /// <summary>
    /// The index opened memory-mapped, for many searches (a server keeps one). Searches are
    /// thread-safe; <see cref="IsCurrent"/> tells when an update replaced the file.
    /// </summary>
    public sealed class View : IDisposable
    {
        readonly ICatalog _catalog;
        readonly USearchIndex _index;
        readonly Meta _meta;
        readonly DateTime _fileTime;

        View(ICatalog catalog, USearchIndex index, Meta meta, DateTime fileTime) =>
            (_catalog, _index, _meta, _fileTime) = (catalog, index, meta, fileTime);

        public static View Open(ICatalog catalog) => Open(catalog, AnnIndex.ExpansionSearch);

        /// <param name="expansionSearch">Candidates explored per query (benchmarks compare settings).</param>
        internal static View Open(ICatalog catalog, ulong expansionSearch)
        {
            Meta meta = ReadMeta(catalog) ?? throw new InvalidOperationException("No ANN index: call Update first.");
            DateTime time = File.GetLastWriteTimeUtc(PathFor(catalog));
            var index = new USearchIndex(PathFor(catalog), true);
            try
            {
                USearchNative.SetExpansionSearch(index, expansionSearch);
            }
            catch
            {
                index.Dispose();
                throw;
            }
            return new View(catalog, index, meta, time);
        }

        /// <summary>The search-time expansion the open index really uses.</summary>
        internal ulong ExpansionSearch => USearchNative.ExpansionSearch(_index);

        /// <summary>False once an update has written a newer index file.</summary>
        public bool IsCurrent => File.GetLastWriteTimeUtc(PathFor(_catalog)) == _fileTime;

        /// <summary>
        /// The index's own nearest keys (image ids) and cosine similarities, without checking them
        /// against the catalog or adding rows committed since the update: for callers that hold
        /// the catalog's vectors already (near-duplicates).
        /// </summary>
        public IEnumerable<(long ImageId, float Score)> Neighbours(float[] query, int count)
        {
            // NB: searches from several threads were seen to race inside USearch through the C#
            // binding; one at a time (about a millisecond each) is safe.
            int found;
            ulong[] keys;
            float[] distances;
            lock (_index)
                found = _index.Search(query, count, out keys, out distances);
            return Enumerable.Range(0, found).Select(i => ((long)keys[i], 1 - distances[i]));
        }

        public IReadOnlyList<SearchHit> Search(float[] query, int limit, int offset = 0,
            float minScore = float.NegativeInfinity, long? excludeImageId = null)
        {
            int want = limit + offset + 1;
            // Ask for more than needed: some keys may belong to images removed since the update.
            var scores = Neighbours(query, want * 2 + 16).ToDictionary(n => n.ImageId, n => n.Score);
            foreach (StoredVector fresh in _catalog.ReadVectorsSince(FreshFrom(_catalog, _meta)))
                scores[fresh.ImageId] = System.Numerics.Tensors.TensorPrimitives.Dot(fresh.Vector, query);

            if (excludeImageId is { } excluded)
                scores.Remove(excluded);
            var paths = _catalog.DonePaths(scores.Keys);
            return scores.Where(s => paths.ContainsKey(s.Key) && s.Value >= minScore)
                .OrderByDescending(s => s.Value).ThenBy(s => s.Key)
                .Skip(offset).Take(limit)
                .Select(s => new SearchHit(paths[s.Key], -1, s.Value) { ImageId = s.Key })
                .ToList();
        }

        public void Dispose() => _index.Dispose();
    }

    /// <summary>Done rows committed in millisecond <paramref name="ms"/>, through the done_at index.</summary>
    static long RowsAt(ICatalog catalog, long ms) => catalog.CountDoneSince(ms) - catalog.CountDoneSince(ms + 1);

    /// <summary>
    /// Where the rows the index lacks begin: after the update's last millisecond when that
    /// millisecond holds just the rows the update counted (all in the index: a bulk import commits
    /// thousands in one, and reading them again cost every search 0.5 s at a million), else at it.
    /// </summary>
    static long FreshFrom(ICatalog catalog, Meta meta) =>
        meta.BoundaryRows >= 0 && RowsAt(catalog, meta.UpdatedAtMs) == meta.BoundaryRows ? meta.UpdatedAtMs + 1 : meta.UpdatedAtMs;

    static Meta? ReadMeta(ICatalog catalog)
    {
        try
        {
            return File.Exists(MetaPathFor(catalog)) ? JsonSerializer.Deserialize<Meta>(File.ReadAllText(MetaPathFor(catalog))) : null;
        }
        catch (JsonException)
        {
            return null; // unreadable: rebuilt on the next update
        }
    }
}
