namespace Glimpse.Catalog;

/// <summary>One kind of problem <c>glimpse verify</c> found, how many rows it touches, and an example.</summary>
public sealed record VerifyProblem(string Check, long Count, string Detail);

/// <summary>What <c>glimpse verify</c> checked and found.</summary>
public sealed record VerifyReport(long Rows, long Vectors, IReadOnlyList<VerifyProblem> Problems)
{
    public bool Ok => Problems.Count == 0;
}
