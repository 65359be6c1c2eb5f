using System.Data.Common;
using System.Runtime.InteropServices;

namespace Glimpse.Catalog;

/// <summary>How every back-end stores a vector: float32 little-endian bytes (a SQLite BLOB, a PostgreSQL bytea).</summary>
internal static class VectorBlob
{
    public static float[] ToVector(byte[] blob)
    {
        var vector = new float[blob.Length / sizeof(float)];
        Buffer.BlockCopy(blob, 0, vector, 0, vector.Length * sizeof(float));
        return vector;
    }

    public static byte[] ToBlob(float[] vector) => MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();

    /// <summary>
    /// A stored vector from a row whose columns are image id, path, embedding_index and vector, in
    /// that order (read in order, so it also works on a sequential-access reader).
    /// </summary>
    public static StoredVector ReadStored(DbDataReader row) =>
        new(row.GetInt64(0), row.GetString(1), row.GetInt64(2), ToVector(row.GetFieldValue<byte[]>(3)));

    /// <summary>Refuses a whole batch before any of it is written: no model bound yet, or a vector that does not fit.</summary>
    public static void CheckBatch(ModelIdentity? model, IEnumerable<(long Id, float[] Vector)> vectors)
    {
        int dimension = model?.Dimension ?? throw new InvalidOperationException("Bind a model to the catalog before storing vectors.");
        foreach (var (id, vector) in vectors)
            Check(id, vector, dimension);
    }

    /// <summary>Refuses a vector of the wrong size or with NaN/infinity before it reaches any catalog.</summary>
    public static void Check(long imageId, float[] vector, int dimension)
    {
        if (vector.Length != dimension)
            throw new ArgumentException($"Image {imageId}: a {vector.Length}-d vector cannot join a catalog of {dimension}-d vectors.");
        foreach (float v in vector)
            if (!float.IsFinite(v))
                throw new ArgumentException($"Image {imageId}: the vector holds NaN or infinity; refusing to store it.");
    }
}
