using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using Glimpse.Catalog;

namespace Glimpse.Search;

/// <summary>
/// Every done image's vector in one flat file beside the catalog (<c>catalog.db.vectors</c>),
/// derived from it and memory-mapped by searches: a fresh <c>glimpse search</c> reads the page
/// cache at memory speed instead of a million rows from the database. The catalog stays the truth.
/// Each search brings the file up to date first: commits since its last update are appended
/// (commit times follow commit order), and the file is used only when its ids are exactly the
/// catalog's done set (<see cref="DoneSet"/>); anything else (a re-embedded, removed or
/// returned file, another model, a torn header) rebuilds it. Updates take a lock shared by every
/// process; a rebuild is written aside and renamed, so a search that mapped the old file keeps it.
/// </summary>
/// <remarks>
/// Layout: a 128-byte header (magic, dimension, row count, the commit time covered, the done-set
/// sum of its ids, the model's sha256, a checksum of the header), then rows of
/// [int64 image id][float32 × dimension], little-endian. Rows past the header's count (an append
/// cut short) are ignored and written over.
/// </remarks>
public static class VectorFile
{
    const int HeaderSize = 128;
    static readonly byte[] Magic = "GLVECS01"u8.ToArray();

    /// <summary>Catch-up rounds while an index run keeps committing, before a search uses the file as it is.</summary>
    const int CatchUpRounds = 3;

    public static string PathFor(ICatalog catalog) => catalog.DerivedDataPrefix + ".vectors";

    /// <summary>What a sync did: rebuilt the file or appended to it, and how many rows it holds.</summary>
    public sealed record SyncResult(bool Rebuilt, long Appended, long Rows);

    /// <summary>
    /// Brings the file up to date with the catalog and maps it for searching. When the catalog's
    /// done set moves on during the sync (an index run committing), the view holds what was
    /// committed when its last round began.
    /// </summary>
    /// <exception cref="IOException">The file cannot be written beside the catalog (a read-only folder, a full disk).</exception>
    /// <exception cref="UnauthorizedAccessException">The same, for lack of permission.</exception>
    public static View Open(ICatalog catalog) => Open(catalog, out _);

    public static View Open(ICatalog catalog, out SyncResult sync)
    {
        ModelIdentity model = catalog.Model ?? throw new CatalogException($"{catalog.Location} holds no vectors yet.");
        string path = PathFor(catalog);
        using (FileLock.Acquire(path + ".lock"))
            sync = Sync(catalog, model, path);
        return View.Map(path, model.Dimension);
    }

    static SyncResult Sync(ICatalog catalog, ModelIdentity model, string path)
    {
        bool rebuilt = false;
        long appended = 0;
        for (int round = 0; ; round++)
        {
            // Read before the rows: whatever commits after this moment has a commit time at or after it.
            long coveredUpTo = catalog.LastCommitMs();
            Header? header = Header.Read(path);
            if (header is null || header.Value.ModelSha256 != model.VisualSha256 || header.Value.Dimension != model.Dimension)
            {
                header = Rebuild(catalog, model, path, coveredUpTo);
                rebuilt = true;
            }
            else if (header.Value.CoveredUpToMs != coveredUpTo)
            {
                var (next, added) = Append(catalog, path, header.Value, coveredUpTo);
                if (next is null)
                {
                    header = Rebuild(catalog, model, path, coveredUpTo);
                    rebuilt = true;
                }
                else
                {
                    header = next;
                    appended += added;
                }
            }

            DoneSet done = catalog.ReadDoneSet();
            bool busy = catalog.LastCommitMs() != coveredUpTo;
            // A rebuilt file that still differs on a quiet catalog holds every vector it could use
            // (verify reports vectors of the wrong size, which are left out).
            if (header.Value.Ids == done || (rebuilt && !busy))
                return new SyncResult(rebuilt, appended, header.Value.Ids.Count);
            if (busy)
            {
                if (round < CatchUpRounds)
                    continue; // commits arrived meanwhile: catch up with them
                // An index run keeps committing: search what the file holds. A hit whose image
                // changed or went since is left out by the search (it asks for done paths).
                return new SyncResult(rebuilt, appended, header.Value.Ids.Count);
            }
            Header.Invalidate(path); // rows no longer done, or done again without a new commit: start over
        }
    }

    static Header Rebuild(ICatalog catalog, ModelIdentity model, string path, long coveredUpTo)
    {
        string temp = $"{path}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            DoneSet ids = DoneSet.Empty;
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                file.Write(new byte[HeaderSize]);
                var row = new byte[RowBytes(model.Dimension)];
                foreach (StoredVector v in catalog.ReadVectors())
                {
                    if (v.Vector.Length != model.Dimension)
                        continue; // verify reports these; search skips them, as the in-memory set does
                    WriteRow(row, v);
                    file.Write(row);
                    ids = ids.Add(v.ImageId);
                }
                var header = new Header(model.Dimension, ids, coveredUpTo, model.VisualSha256);
                file.Position = 0;
                file.Write(header.ToBytes());
            }
            File.Move(temp, path, overwrite: true);
            return Header.Read(path) ?? throw new IOException($"{path} could not be read back after it was written.");
        }
        finally
        {
            if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    /// <summary>Appends the rows committed since the header's time; null when the file must be rebuilt instead.</summary>
    static (Header? Next, long Added) Append(ICatalog catalog, string path, Header header, long coveredUpTo)
    {
        IReadOnlyList<StoredVector> fresh = catalog.ReadVectorsSince(header.CoveredUpToMs);
        if (fresh.Count == 0)
            return (header with { CoveredUpToMs = coveredUpTo }).WriteTo(path);

        // Rows committed in the millisecond the file last covered may be in it already: the same
        // vector is skipped; an id with another vector was embedded again, and the file is stale.
        Dictionary<long, int> rowOf;
        using (var view = View.Map(path, header.Dimension))
        {
            rowOf = new Dictionary<long, int>(view.Count);
            for (int i = 0; i < view.Count; i++)
                rowOf[view.ImageId(i)] = i;
            foreach (StoredVector v in fresh)
                if (rowOf.TryGetValue(v.ImageId, out int row) && !view.Row(row).SequenceEqual(v.Vector))
                    return (null, 0);
        }

        DoneSet ids = header.Ids;
        long added = 0;
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1 << 20))
        {
            file.Position = HeaderSize + header.Ids.Count * RowBytes(header.Dimension);
            var row = new byte[RowBytes(header.Dimension)];
            foreach (StoredVector v in fresh)
            {
                if (rowOf.ContainsKey(v.ImageId) || v.Vector.Length != header.Dimension)
                    continue;
                rowOf[v.ImageId] = -1;
                WriteRow(row, v);
                file.Write(row);
                ids = ids.Add(v.ImageId);
                added++;
            }
            file.Flush();
            // The header last: until it is written, a reader (or a crash) sees the old row count.
            file.Position = 0;
            file.Write(new Header(header.Dimension, ids, coveredUpTo, header.ModelSha256).ToBytes());
        }
        return (Header.Read(path), added);
    }

    static long RowBytes(int dimension) => sizeof(long) + (long)dimension * sizeof(float);

    static void WriteRow(byte[] row, StoredVector v)
    {
        BinaryPrimitives.WriteInt64LittleEndian(row, v.ImageId);
        MemoryMarshal.AsBytes(v.Vector.AsSpan()).CopyTo(row.AsSpan(sizeof(long)));
    }

    readonly record struct Header(int Dimension, DoneSet Ids, long CoveredUpToMs, string ModelSha256)
    {
        public byte[] ToBytes()
        {
            var b = new byte[HeaderSize];
            Magic.CopyTo(b, 0);
            BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(8), Dimension);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(16), Ids.Count);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(24), CoveredUpToMs);
            BinaryPrimitives.WriteInt64LittleEndian(b.AsSpan(32), Ids.IdSum);
            Encoding.ASCII.GetBytes(ModelSha256.PadRight(64).AsSpan(0, 64), b.AsSpan(48, 64));
            BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(112), System.IO.Hashing.XxHash32.HashToUInt32(b.AsSpan(0, 112)));
            return b;
        }

        public (Header?, long) WriteTo(string path)
        {
            using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                file.Write(ToBytes());
            return (this, 0);
        }

        /// <summary>The header of the file at <paramref name="path"/>; null when there is none, it is torn, or the file is shorter than it says.</summary>
        public static Header? Read(string path)
        {
            try
            {
                using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                var b = new byte[HeaderSize];
                if (file.ReadAtLeast(b, HeaderSize, throwOnEndOfStream: false) < HeaderSize || !b.AsSpan(0, 8).SequenceEqual(Magic)
                    || BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(112)) != System.IO.Hashing.XxHash32.HashToUInt32(b.AsSpan(0, 112)))
                    return null;
                var header = new Header(
                    BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(8)),
                    new DoneSet(BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(16)), BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(32))),
                    BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(24)),
                    Encoding.ASCII.GetString(b, 48, 64).TrimEnd());
                return file.Length >= HeaderSize + header.Ids.Count * RowBytes(header.Dimension) ? header : null;
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        }

        /// <summary>Spoils the header so the next sync rebuilds the file.</summary>
        public static void Invalidate(string path)
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            file.Write(new byte[8]);
        }
    }

    /// <summary>The file mapped read-only: rows and their image ids, as many as its header said when mapped.</summary>
    public sealed unsafe class View : IVectorRows, IDisposable
    {
        readonly MemoryMappedFile? _file;
        readonly MemoryMappedViewAccessor? _accessor;
        readonly byte* _rows;
        readonly long _stride;

        View(MemoryMappedFile? file, MemoryMappedViewAccessor? accessor, byte* rows, int dimension, int count)
        {
            _file = file;
            _accessor = accessor;
            _rows = rows;
            Dimension = dimension;
            Count = count;
            _stride = RowBytes(dimension);
        }

        internal static View Map(string path, int dimension)
        {
            Header header = Header.Read(path) ?? throw new IOException($"{path} is not a Glimpse vector file (or was cut short).");
            if (header.Ids.Count == 0)
                return new View(null, null, null, dimension, 0);
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var file = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            try
            {
                var accessor = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
                byte* start = null;
                accessor.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
                return new View(file, accessor, start + accessor.PointerOffset + HeaderSize, dimension, checked((int)header.Ids.Count));
            }
            catch
            {
                file.Dispose();
                throw;
            }
        }

        public int Dimension { get; }

        public int Count { get; }

        public ReadOnlySpan<float> Row(int i) => new(_rows + i * _stride + sizeof(long), Dimension);

        public long ImageId(int i) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(_rows + i * _stride, sizeof(long)));

        /// <summary>
        /// The nearest done images, exactly. Paths come from the catalog for the hits alone; a hit
        /// whose image stopped being done since the view was mapped is left out.
        /// </summary>
        public IReadOnlyList<SearchHit> Search(ICatalog catalog, ReadOnlySpan<float> query, int limit, int offset = 0,
            float minScore = float.NegativeInfinity, long? excludeImageId = null)
        {
            // A few more than asked, for hits removed meanwhile.
            var ranked = ExactSearch.Rank(this, query, limit + offset + 16, minScore,
                excludeImageId is { } excluded ? row => ImageId(row) == excluded : null);
            var paths = catalog.DonePaths(ranked.Select(h => ImageId(h.Row)));
            return ranked.Where(h => paths.ContainsKey(ImageId(h.Row)))
                .Skip(offset).Take(limit)
                .Select(h => new SearchHit(paths[ImageId(h.Row)], h.Row, h.Score) { ImageId = ImageId(h.Row) })
                .ToList();
        }

        public void Dispose()
        {
            if (_accessor is not null)
            {
                _accessor.SafeMemoryMappedViewHandle.ReleasePointer();
                _accessor.Dispose();
            }
            _file?.Dispose();
        }
    }
}
