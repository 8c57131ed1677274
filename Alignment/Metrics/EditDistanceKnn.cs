using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// 1 - mean_i Levenshtein(NN_A(i), NN_B(i)) / k' with unit insert, delete and substitute costs
/// (torchaudio.functional.edit_distance), as the reference's <c>edit_distance_knn</c>. O(N k^2).
/// </summary>
public static class EditDistanceKnn
{
    public static double Score(NeighbourLists a, NeighbourLists b, int columns) =>
        1 - (double)NeighbourLists.SumOverRows(a, b, columns, Distance) / a.SampleCount / columns;

    /// <summary>Wagner-Fischer over two rows of the table.</summary>
    public static int Distance(ReadOnlySpan<int> x, ReadOnlySpan<int> y, Span<int> previous, Span<int> current)
    {
        for (int q = 0; q <= y.Length; q++) previous[q] = q;
        for (int p = 1; p <= x.Length; p++)
        {
            current[0] = p;
            for (int q = 1; q <= y.Length; q++)
            {
                int substitute = previous[q - 1] + (x[p - 1] == y[q - 1] ? 0 : 1);
                current[q] = Math.Min(substitute, Math.Min(previous[q], current[q - 1]) + 1);
            }
            current[..(y.Length + 1)].CopyTo(previous);
        }
        return previous[y.Length];
    }
}
