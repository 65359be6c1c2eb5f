using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace Glimpse.Search;

/// <summary>
/// Sets USearch's search-time expansion (HNSW "ef") on an index. The C# binding opens files with
/// default options (ef 64, recall@10 about 0.9 at a million vectors) and exposes no setter, while
/// the native C API has one; this calls it on the binding's native handle.
/// </summary>
internal static partial class USearchTuning
{
    const string Library = "libusearch_c";

    // NB: the binding keeps its native index pointer in this private field (Cloud.Unum.USearch
    // 2.26.6, pinned). A test checks that the setting takes effect, so an upgrade that renames it
    // fails loudly instead of searching with a lower recall.
    static readonly FieldInfo? NativeHandle = typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance);

    [LibraryImport(Library)]
    private static partial void usearch_change_expansion_search(IntPtr index, nuint expansion, out IntPtr error);

    [LibraryImport(Library)]
    private static partial nuint usearch_expansion_search(IntPtr index, out IntPtr error);

    public static void SetExpansionSearch(USearchIndex index, ulong expansion)
    {
        usearch_change_expansion_search(Handle(index), (nuint)expansion, out IntPtr error);
        ThrowIfError(error);
    }

    public static ulong ExpansionSearch(USearchIndex index)
    {
        nuint value = usearch_expansion_search(Handle(index), out IntPtr error);
        ThrowIfError(error);
        return value;
    }

    static IntPtr Handle(USearchIndex index) =>
        NativeHandle?.GetValue(index) is IntPtr handle && handle != IntPtr.Zero
            ? handle
            : throw new InvalidOperationException("This USearch binding keeps no native handle where Glimpse expects it: check USearchTuning against the binding's version.");

    static void ThrowIfError(IntPtr error)
    {
        if (error != IntPtr.Zero)
            throw new InvalidOperationException($"USearch: {Marshal.PtrToStringAnsi(error)}");
    }
}
