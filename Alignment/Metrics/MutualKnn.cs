using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Mutual k-nearest neighbours (Huh et al. 2024, eq. 11): mean_i |NN_A(i) ∩ NN_B(i)| / k',
/// k' = the number of list columns, from the exact integer overlap Σ_i |NN_A(i) ∩ NN_B(i)|. The
/// reference counts with float32 masks, so the result is rounded to float32 like the reference's.
/// <see cref="Overlap"/> is the plain per-pair count (a marker array, O(N k)); tiles count whole blocks
/// of layer pairs at once with <see cref="AllPairs.NeighbourOverlaps"/>, which the tests compare with it.
/// </summary>
public static class MutualKnn
{
    public static double FromOverlap(long overlap, int columns, int sampleCount) => (float)(overlap / ((double)columns * sampleCount));

    public static double Score(NeighbourLists a, NeighbourLists b, int columns) =>
        FromOverlap(Overlap(a, b, columns, new int[a.SampleCount]), columns, a.SampleCount);

    /// <summary>Σ_i |NN_A(i) ∩ NN_B(i)| over the first <paramref name="columns"/> columns; <paramref name="marker"/> holds N ints of scratch.</summary>
    public static long Overlap(NeighbourLists a, NeighbourLists b, int columns, int[] marker)
    {
        Array.Fill(marker, -1);
        long total = 0;
        for (int i = 0; i < a.SampleCount; i++)
        {
            foreach (int j in a.Indices(i, columns)) marker[j] = i;
            foreach (int j in b.Indices(i, columns)) if (marker[j] == i) total++;
        }
        return total;
    }
}
