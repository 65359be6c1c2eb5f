namespace Glimpse.Indexing;

/// <summary>
/// What one <c>glimpse index</c> run did: images it embedded (<see cref="Reused"/> of them by
/// reusing the vector of a moved or copied file) and failed, what is left, images the scan found
/// gone, files left out, and whether it was stopped early.
/// </summary>
public sealed record IndexRunSummary(long Done, long Failed, long Left, bool Stopped, long Reused = 0, long Missing = 0)
{
    /// <summary>Files the scan left out because they are not images Glimpse reads (videos, sidecars, ...), by kind.</summary>
    public Catalog.SkippedFiles Skipped { get; init; } = Catalog.SkippedFiles.None;

    /// <summary>Files held back because they changed within the settle time: a later pass takes them.</summary>
    public long Settling { get; init; }
}
