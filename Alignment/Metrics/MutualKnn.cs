using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Mutual k-nearest neighbours (Huh et al. 2024, eq. 11): mean_i |NN_A(i) ∩ NN_B(i)| / k',
/// k' = the number of list columns. O(N k) with a marker array. The reference counts with float32
/// masks, so the result is rounded to float32 like the reference's.
/// </summary>
public static class MutualKnn
{
    public static double Score(NeighbourLists a, NeighbourLists b, int columns)
    {
        int n = a.SampleCount;
        var marker = new int[n];
        Array.Fill(marker, -1);
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            foreach (int j in a.Indices(i, columns)) marker[j] = i;
            int shared = 0;
            foreach (int j in b.Indices(i, columns)) if (marker[j] == i) shared++;
            total += (double)shared / columns;
        }
        return (float)(total / n);
    }
}
