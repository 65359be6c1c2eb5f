namespace Glimpse.Indexing;

/// <summary>What one <c>glimpse index</c> run did: images it embedded and failed, what is left, and whether it was stopped early.</summary>
public sealed record IndexRunSummary(long Done, long Failed, long Left, bool Stopped);
