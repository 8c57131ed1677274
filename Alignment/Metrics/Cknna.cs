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
    public static double Score(NeighbourLists a, NeighbourLists b, int topk, bool unbiased, double selfA, double selfB) =>
        Similarity(a, b, topk, unbiased) / (Math.Sqrt(selfA * selfB) + Cka.Epsilon);

    public static double Similarity(NeighbourLists a, NeighbourLists b, int topk, bool unbiased)
    {
        int n = a.SampleCount;
        var rowA = new int[topk];
        var rowB = new int[topk];
        var valA = new double[topk];
        var valB = new double[topk];
        var marker = new int[n];
        var markedValue = new double[n];
        Array.Fill(marker, -1);
        var colK = new double[n];
        var rowK = new double[n];
        var colL = new double[n];
        var rowL = new double[n];
        var mask = new ulong[((long)n * n + 63) / 64];
        var pairs = new List<(int I, int J, double K, double L)>(n * topk);
        double sK = 0, sL = 0;

        for (int i = 0; i < n; i++)
        {
            TopK(a, i, topk, unbiased, rowA, valA);
            TopK(b, i, topk, unbiased, rowB, valB);
            for (int t = 0; t < topk; t++) { marker[rowA[t]] = i; markedValue[rowA[t]] = valA[t]; }
            for (int t = 0; t < topk; t++)
            {
                int j = rowB[t];
                if (marker[j] != i || (unbiased && j == i)) continue; // the unbiased HSIC zeroes the diagonal
                double k = markedValue[j], l = valB[t];
                sK += k; sL += l;
                colK[j] += k; rowK[i] += k;
                colL[j] += l; rowL[i] += l;
                long bit = (long)i * n + j;
                mask[bit >> 6] |= 1UL << (int)(bit & 63);
                pairs.Add((i, j, k, l));
            }
        }

        double t1 = 0;
        foreach (var (i, j, k, l) in pairs)
        {
            long transposed = (long)j * n + i;
            if ((mask[transposed >> 6] & (1UL << (int)(transposed & 63))) != 0) t1 += k * l;
        }

        double nn = n;
        if (unbiased)
        {
            double t3 = Dot(colK, rowL);
            return (t1 + sK * sL / ((nn - 1) * (nn - 2)) - 2 * t3 / (nn - 2)) / (nn * (nn - 3));
        }
        return t1 - (Dot(colK, rowL) + Dot(colL, rowK)) / nn + sK * sL / (nn * nn);
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
