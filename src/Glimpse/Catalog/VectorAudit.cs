using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Glimpse.Catalog;

/// <summary>
/// The per-vector checks of <c>glimpse verify</c>, the same for every back-end: each stored blob
/// is fed in once, and the problems come out counted, with one example each.
/// </summary>
internal sealed class VectorAudit(int dimension)
{
    /// <summary>How far a stored vector's length may be from 1 (float32 rounding is ~1e-7).</summary>
    const double NormTolerance = 1e-3;

    long _wrongDimension, _nonFinite, _notNormalised;
    string? _exampleDimension, _exampleFinite, _exampleNorm;

    public void Inspect(string path, byte[] blob)
    {
        if (blob.Length != dimension * sizeof(float))
        {
            _wrongDimension++;
            _exampleDimension ??= $"{path}: {blob.Length / 4.0:0.#} values, not {dimension}";
            return;
        }
        ReadOnlySpan<float> v = MemoryMarshal.Cast<byte, float>(blob);
        bool finite = true;
        foreach (float x in v)
            finite &= float.IsFinite(x);
        if (!finite)
        {
            _nonFinite++;
            _exampleFinite ??= path;
            return;
        }
        double norm = TensorPrimitives.Norm(v);
        if (Math.Abs(norm - 1) > NormTolerance)
        {
            _notNormalised++;
            _exampleNorm ??= $"{path}: length {norm:0.####}";
        }
    }

    public void Report(Action<string, long, string> add)
    {
        add("wrong dimension", _wrongDimension, _exampleDimension ?? "");
        add("non-finite vector", _nonFinite, _exampleFinite ?? "");
        add("not normalised", _notNormalised, _exampleNorm ?? "");
    }
}
