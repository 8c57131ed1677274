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
/// Each layer's rows are prepared once (<see cref="Rows"/>: with whether (j, i) is a top-k pair too), so a
/// layer pair is one table lookup per neighbour and no pair stores its matches.
/// </summary>
public static class Cknna
{
    public static double Score(Rows a, Rows b, double selfA, double selfB, Scratch scratch) =>
        Similarity(a, b, scratch) / (Math.Sqrt(selfA * selfB) + Cka.Epsilon);

    /// <summary>
    /// One layer's top-k rows as torch.topk sees them for the variant, with the similarity K_ij and whether
    /// i is in row j's top-k too (so (i, j) ∈ M and (j, i) ∈ M is both layers' flags at the match); rows are
    /// sorted by column to find that by binary search.
    /// </summary>
    public sealed class Rows
    {
        internal readonly int N, K;
        internal readonly bool Unbiased;
        internal readonly int[] Columns;
        internal readonly double[] Values;
        internal readonly bool[] Reciprocal;

        public Rows(NeighbourLists lists, int topk, bool unbiased)
        {
            (N, K, Unbiased) = (lists.SampleCount, NeighbourLists.ColumnsFor(lists.SampleCount, topk), unbiased);
            Columns = new int[N * K];
            Values = new double[N * K];
            Reciprocal = new bool[N * K];
            for (int i = 0; i < N; i++)
            {
                var columns = Columns.AsSpan(i * K, K);
                var values = Values.AsSpan(i * K, K);
                TopK(lists, i, K, unbiased, columns, values);
                columns.Sort(values);
            }
            for (int i = 0; i < N; i++)
                for (int t = i * K; t < (i + 1) * K; t++)
                {
                    int j = Columns[t];
                    Reciprocal[t] = Columns.AsSpan(j * K, K).BinarySearch(i) >= 0;
                }
        }
    }

    /// <summary>Buffers one thread reuses for every pair it scores (no allocation per pair).</summary>
    public sealed class Scratch(int n)
    {
        internal readonly double[] ColK = new double[n], RowK = new double[n], ColL = new double[n], RowL = new double[n];
        internal readonly int[] Position = new int[n];
    }

    public static double Similarity(Rows a, Rows b, Scratch s)
    {
        if (a.N != b.N || a.K != b.K || a.Unbiased != b.Unbiased)
            throw new ArgumentException($"cknna rows differ: {a.N} x {a.K} against {b.N} x {b.K}");
        int n = a.N, k = a.K;
        bool unbiased = a.Unbiased;
        Array.Clear(s.ColK);
        Array.Clear(s.ColL);
        double sK = 0, sL = 0, t1 = 0;
        // Row i of A marked in a table (column j at position[j] - 1, 0 where absent), B's row looked up in it.
        int[] position = s.Position, aColumns = a.Columns, bColumns = b.Columns;
        double[] aValues = a.Values, bValues = b.Values, colK = s.ColK, colL = s.ColL, rowKs = s.RowK, rowLs = s.RowL;
        bool[] aReciprocal = a.Reciprocal, bReciprocal = b.Reciprocal;
        for (int i = 0; i < n; i++)
        {
            int row = i * k;
            for (int t = 0; t < k; t++) position[aColumns[row + t]] = t + 1;
            if (unbiased) position[i] = 0; // the unbiased HSIC zeroes the diagonal
            double rowK = 0, rowL = 0;
            for (int q = row; q < row + k; q++)
            {
                int j = bColumns[q], t = position[j];
                if (t == 0) continue;
                int p = row + t - 1;
                double kv = aValues[p], lv = bValues[q];
                rowK += kv; rowL += lv;
                colK[j] += kv; colL[j] += lv;
                if (aReciprocal[p] && bReciprocal[q]) t1 += kv * lv;
            }
            for (int t = 0; t < k; t++) position[aColumns[row + t]] = 0;
            rowKs[i] = rowK; rowLs[i] = rowL;
            sK += rowK; sL += rowL;
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
    private static void TopK(NeighbourLists lists, int i, int topk, bool unbiased, Span<int> idx, Span<double> val)
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
