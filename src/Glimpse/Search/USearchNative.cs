using System.Reflection;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;

namespace Glimpse.Search;

/// <summary>
/// What the native USearch C API offers and the C# binding does not, called on the binding's
/// native handle: setting the search-time expansion (HNSW "ef"; the binding opens files at ef 64,
/// recall@10 about 0.9 at a million vectors), and reserving capacity up front so that several
/// threads can add at once (the binding grows the index inside each Add, which is not thread-safe).
/// </summary>
internal static partial class USearchNative
{
    const string Library = "libusearch_c";

    // NB: the binding keeps its native index pointer in this private field (Cloud.Unum.USearch
    // 2.26.6, pinned). A test checks that the ef setting takes effect, so an upgrade that renames
    // it fails loudly instead of searching with a lower recall.
    static readonly FieldInfo? NativeHandle = typeof(USearchIndex).GetField("_index", BindingFlags.NonPublic | BindingFlags.Instance);

    [LibraryImport(Library)]
    private static partial void usearch_change_expansion_search(IntPtr index, nuint expansion, out IntPtr error);

    [LibraryImport(Library)]
    private static partial nuint usearch_expansion_search(IntPtr index, out IntPtr error);

    [LibraryImport(Library)]
    private static partial void usearch_reserve(IntPtr index, nuint capacity, out IntPtr error);

    /// <summary>
    /// Makes room for <paramref name="capacity"/> vectors. The native index then takes concurrent
    /// adds from as many threads as the machine has cores, and the binding's Add, finding room,
    /// does not try to grow it.
    /// </summary>
    public static void Reserve(USearchIndex index, ulong capacity)
    {
        usearch_reserve(Handle(index), (nuint)capacity, out IntPtr error);
        ThrowIfError(error);
    }

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
            : throw new InvalidOperationException("This USearch binding keeps no native handle where Glimpse expects it: check USearchNative against the binding's version.");

    static void ThrowIfError(IntPtr error)
    {
        if (error != IntPtr.Zero)
            throw new InvalidOperationException($"USearch: {Marshal.PtrToStringAnsi(error)}");
    }
}
