using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Longest common subsequence of the two ordered neighbour lists, averaged over samples and NOT
/// divided by k (range 0..k), as the reference's <c>lcs_knn</c>. O(N k^2). Rounded to float32.
/// </summary>
public static class LcsKnn
{
    public static double Score(NeighbourLists a, NeighbourLists b, int columns) =>
        (float)((double)NeighbourLists.SumOverRows(a, b, columns, Length) / a.SampleCount);

    /// <summary>Classic dynamic programme over two rows of the table.</summary>
    public static int Length(ReadOnlySpan<int> x, ReadOnlySpan<int> y, Span<int> previous, Span<int> current)
    {
        previous[..(y.Length + 1)].Clear();
        for (int p = 1; p <= x.Length; p++)
        {
            current[0] = 0;
            for (int q = 1; q <= y.Length; q++)
                current[q] = x[p - 1] == y[q - 1] ? previous[q - 1] + 1 : Math.Max(previous[q], current[q - 1]);
            current[..(y.Length + 1)].CopyTo(previous);
        }
        return previous[y.Length];
    }
}
