using Glimpse.Catalog;
using Glimpse.Models;
using Glimpse.Search;

namespace Glimpse.Cli.Serve;

/// <summary>
/// What <c>glimpse serve</c> keeps warm: the catalog, the query encoders (loaded once) and the
/// vectors in memory, reloaded when a commit happened since (an index run in another process), at
/// most every <see cref="ReloadEvery"/>. Thread-safe.
/// </summary>
internal sealed class SearchService : IDisposable
{
    static readonly TimeSpan ReloadEvery = TimeSpan.FromSeconds(2);

    readonly QueryEmbedder _embedder;
    readonly string _realRoot;
    readonly Lock _lock = new();
    VectorSet _set;
    long _loadedCommitMs;
    DateTime _checkedAt;
    AnnIndex.View? _ann;

    public SearchService(ICatalog catalog, ModelFolder model, string root, bool buildAnn = false)
    {
        Catalog = catalog;
        Root = Path.GetFullPath(root);
        _realRoot = Glimpse.Indexing.RealPath.Of(Root) ?? Root;
        Model = model;
        // One ONNX thread per query: concurrent requests then use the cores side by side
        // instead of queueing behind one multi-threaded call.
        _embedder = new QueryEmbedder(model, intraOpThreads: 1);
        _loadedCommitMs = catalog.LastCommitMs();
        _set = VectorSet.Load(catalog);
        _checkedAt = DateTime.UtcNow;
        _embedder.Embed([new QueryTerm(1, "warm up", false)]); // load the text model now, not on the first query
        if (buildAnn || AnnIndex.IsUsable(catalog))
        {
            AnnIndex.Update(catalog);
            _ann = AnnIndex.View.Open(catalog);
        }
    }

    /// <summary>True when searches go through the ANN index (one exists beside the catalog).</summary>
    public bool UsesAnn => _ann is not null;

    public ICatalog Catalog { get; }
    public string Root { get; }
    public ModelFolder Model { get; }

    VectorSet Current()
    {
        lock (_lock)
        {
            if (DateTime.UtcNow - _checkedAt >= ReloadEvery)
            {
                _checkedAt = DateTime.UtcNow;
                long last = Catalog.LastCommitMs();
                if (last != _loadedCommitMs)
                {
                    _set = VectorSet.Load(Catalog);
                    _loadedCommitMs = last;
                }
            }
            return _set;
        }
    }

    public sealed record Hit(long Id, string Path, float Score);

    public IReadOnlyList<Hit> SearchText(string text, int limit, int offset) => Search(Embed(new QueryTerm(1, text, false)), limit, offset);

    public IReadOnlyList<Hit> SearchImage(byte[] image, int limit, int offset)
    {
        string temp = System.IO.Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(temp, image);
            return Search(Embed(new QueryTerm(1, temp, true)), limit, offset);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public IReadOnlyList<Hit>? SearchSimilar(long imageId, int limit, int offset)
    {
        VectorSet set = Current();
        int row = Array.IndexOf(set.ImageIds, imageId);
        if (row < 0)
            return null;
        return ExactSearch.Search(set, set.Row(row), limit, offset, exclude: new HashSet<int> { row })
            .Select(h => new Hit(set.ImageIds[h.Row], h.Path, h.Score)).ToList();
    }

    float[] Embed(QueryTerm term) => _embedder.Embed([term]);

    IReadOnlyList<Hit> Search(float[] query, int limit, int offset)
    {
        if (CurrentAnn() is { } ann)
            return ann.Search(query, limit, offset).Select(h => new Hit(h.ImageId!.Value, h.Path, h.Score)).ToList();
        VectorSet set = Current();
        return ExactSearch.Search(set, query, limit, offset).Select(h => new Hit(set.ImageIds[h.Row], h.Path, h.Score)).ToList();
    }

    /// <summary>The open ANN view, reopened when an index run replaced the file.</summary>
    AnnIndex.View? CurrentAnn()
    {
        lock (_lock)
        {
            if (_ann is { IsCurrent: false })
            {
                // NB: the old view is not disposed: a search on another thread may still be using
                // it. It is replaced once per index run, and its mapping goes with the GC.
                _ann = AnnIndex.View.Open(Catalog);
            }
            return _ann;
        }
    }

    /// <summary>
    /// The full path of a done image by catalog id; null for an unknown id, an image not done, or
    /// one whose real path (links resolved) lies outside the library root. Paths never come from
    /// the client.
    /// </summary>
    public string? FileOf(long imageId)
    {
        if (Catalog.PathOfImage(imageId) is not { } relative)
            return null;
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(Root, relative));
        // A file gone from disk leads nowhere (its thumbnail is a placeholder); one that exists must
        // really be inside the library, whatever links lie on the way.
        bool gone = Glimpse.Indexing.RealPath.Of(full) is null;
        return gone || Glimpse.Indexing.RealPath.IsWithin(_realRoot, full) ? full : null;
    }

    public void Dispose()
    {
        _ann?.Dispose();
        _embedder.Dispose();
    }
}
