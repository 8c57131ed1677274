using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Centred kernel nearest-neighbour alignment (Huh et al. 2024, appendix): the HSIC of the two inner
/// product kernels restricted to pairs that are top-k neighbours in both,
/// <c>sim(K, L) = hsic(M∘K, M∘L)</c> with M_ij = 1 iff j is in row i's top-k of K and of L, and
/// <c>cknna = sim(K, L) / (sqrt(sim(K, K) sim(L, L)) + 1e-6)</c>.
/// From the neighbour lists alone, in O(N k) (ALGORITHMS.md): with the pairs (i, j) of M,
/// sK = Σ K_ij, sL = Σ L_ij, t1 = Σ_{(j,i) ∈ M too} K_ij L_ij, c = column sums of M∘K, r = row sums of
/// M∘L, unbiased sim = (t1 + sK sL / ((N-1)(N-2)) - 2 c·r / (N-2)) / (N (N-3)). M∘K is not symmetric,
/// so cknna(A, B) != cknna(B, A) in general, exactly as in the reference.
/// With <c>unbiased=False</c> the reference keeps the diagonal in the top-k and uses the biased HSIC
/// trace(K' H L' H) = t1 - (c_K·r_L + c_L·r_K) / N + sK sL / N^2.
/// </summary>
public static class Cknna
{
    public static double Score(NeighbourLists a, NeighbourLists b, int topk, bool unbiased, double selfA, double selfB, Scratch scratch) =>
        Similarity(a, b, topk, unbiased, scratch) / (Math.Sqrt(selfA * selfB) + Cka.Epsilon);

    /// <summary>Buffers one thread reuses for every pair it scores (no allocation per pair).</summary>
    public sealed class Scratch(int n, int topk)
    {
        internal readonly int[] RowA = new int[topk], RowB = new int[topk];
        internal readonly double[] ValA = new double[topk], ValB = new double[topk];
        internal readonly int[] Marker = new int[n];
        internal readonly double[] MarkedValue = new double[n];
        internal readonly double[] ColK = new double[n], RowK = new double[n], ColL = new double[n], RowL = new double[n];

        // M row by row: row i's pairs are Columns[Start[i] .. Start[i + 1]), with K and L at them.
        internal readonly int[] Start = new int[n + 1];
        internal readonly int[] Columns = new int[n * topk];
        internal readonly double[] K = new double[n * topk], L = new double[n * topk];
    }

    public static double Similarity(NeighbourLists a, NeighbourLists b, int topk, bool unbiased, Scratch s)
    {
        int n = a.SampleCount;
        Array.Fill(s.Marker, -1);
        Array.Clear(s.ColK);
        Array.Clear(s.RowK);
        Array.Clear(s.ColL);
        Array.Clear(s.RowL);
        double sK = 0, sL = 0;
        int count = 0;
        for (int i = 0; i < n; i++)
        {
            s.Start[i] = count;
            TopK(a, i, topk, unbiased, s.RowA, s.ValA);
            TopK(b, i, topk, unbiased, s.RowB, s.ValB);
            for (int t = 0; t < topk; t++) { s.Marker[s.RowA[t]] = i; s.MarkedValue[s.RowA[t]] = s.ValA[t]; }
            for (int t = 0; t < topk; t++)
            {
                int j = s.RowB[t];
                if (s.Marker[j] != i || (unbiased && j == i)) continue; // the unbiased HSIC zeroes the diagonal
                double k = s.MarkedValue[j], l = s.ValB[t];
                sK += k; sL += l;
                s.ColK[j] += k; s.RowK[i] += k;
                s.ColL[j] += l; s.RowL[i] += l;
                s.Columns[count] = j;
                s.K[count] = k;
                s.L[count] = l;
                count++;
            }
        }
        s.Start[n] = count;

        // t1 pairs (i, j) of M whose transpose (j, i) is in M too: i among row j's few pairs.
        double t1 = 0;
        for (int i = 0; i < n; i++)
            for (int p = s.Start[i]; p < s.Start[i + 1]; p++)
            {
                int j = s.Columns[p];
                for (int q = s.Start[j]; q < s.Start[j + 1]; q++)
                    if (s.Columns[q] == i) { t1 += s.K[p] * s.L[p]; break; }
            }

        double nn = n;
        if (unbiased)
        {
            double t3 = Dot(s.ColK, s.RowL);
            return (t1 + sK * sL / ((nn - 1) * (nn - 2)) - 2 * t3 / (nn - 2)) / (nn * (nn - 3));
        }
        return t1 - (Dot(s.ColK, s.RowL) + Dot(s.ColL, s.RowK)) / nn + sK * sL / (nn * nn);
    }

    /// <summary>
    /// Row i's top-k as torch.topk sees it: the unbiased variant sets the diagonal to -inf, so the
    /// sample is last and only for k = N (the neighbour list's own layout); the biased one keeps the
    /// diagonal, so the sample takes its place by similarity (ties: lower index first).
    /// </summary>
    private static void TopK(NeighbourLists lists, int i, int topk, bool unbiased, int[] idx, double[] val)
    {
        var listIdx = lists.Indices(i, topk);
        var listVal = lists.Similarities(i, topk);
        if (unbiased || topk == lists.SampleCount)
        {
            listIdx.CopyTo(idx);
            listVal.CopyTo(val);
            return;
        }
        double self = lists.SelfSimilarity(i);
        int p = 0, t = 0;
        bool placed = false;
        while (p < topk)
        {
            bool takeSelf = !placed && (t >= listIdx.Length || self > listVal[t] || (self == listVal[t] && i < listIdx[t]));
            if (takeSelf) { idx[p] = i; val[p] = self; placed = true; }
            else { idx[p] = listIdx[t]; val[p] = listVal[t]; t++; }
            p++;
        }
    }

    private static double Dot(double[] x, double[] y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }
}
