namespace Glimpse.Search;

/// <summary>Rows of unit vectors that exact search ranks: in memory (<see cref="VectorSet"/>) or mapped from a file (<see cref="VectorFile"/>).</summary>
public interface IVectorRows
{
    int Dimension { get; }

    int Count { get; }

    ReadOnlySpan<float> Row(int i);
}
