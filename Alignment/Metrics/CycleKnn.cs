using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Cycle kNN: the fraction of samples i that appear among the A-neighbours of one of their own
/// B-neighbours, mean_i [ i ∈ ∪_{j ∈ NN_B(i)} NN_A(j) ] (the reference's <c>knn_A[knn_B]</c>).
/// Asymmetric in A and B. O(N k^2). Rounded to float32 like the reference's.
/// </summary>
public static class CycleKnn
{
    public static double Score(NeighbourLists a, NeighbourLists b, int columns)
    {
        int n = a.SampleCount, hits = 0;
        for (int i = 0; i < n; i++)
        {
            bool found = false;
            foreach (int j in b.Indices(i, columns))
            {
                if (a.Indices(j, columns).Contains(i)) { found = true; break; }
            }
            if (found) hits++;
        }
        return (float)((double)hits / n);
    }
}
