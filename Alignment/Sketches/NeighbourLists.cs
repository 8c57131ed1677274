namespace Prh.Alignment.Sketches;

/// <summary>
/// Each sample's nearest neighbours by inner product, as the reference's
/// <c>compute_nearest_neighbors(X, k)</c>: the row of <c>X X^T</c> with its diagonal set to -1e8,
/// sorted descending, first k columns. So the sample itself is excluded unless k >= N, in which case
/// the N columns end with the sample itself. Ties (the reference's sort is not stable) are broken by
/// the lower index. The list for a smaller k is a prefix, so one list of the largest k serves every k.
/// The similarities are kept beside the indices (cknna reads them).
/// </summary>
public sealed class NeighbourLists
{
    private readonly int[] _indices;
    private readonly double[] _similarities;
    private readonly double[] _selfSimilarities;

    internal NeighbourLists(int sampleCount, int columns, int[] indices, double[] similarities, double[] selfSimilarities)
    {
        _selfSimilarities = selfSimilarities;
        SampleCount = sampleCount;
        Columns = columns;
        _indices = indices;
        _similarities = similarities;
    }

    public int SampleCount { get; }

    /// <summary>Columns held per row: min(k, N) for the k they were built for.</summary>
    public int Columns { get; }

    /// <summary>How many columns the reference returns for <paramref name="topk"/>: Python slicing stops at N.</summary>
    public static int ColumnsFor(int sampleCount, int topk) => Math.Min(topk, sampleCount);

    public ReadOnlySpan<int> Indices(int row, int columns) => _indices.AsSpan(row * Columns, columns);

    public ReadOnlySpan<double> Similarities(int row, int columns) => _similarities.AsSpan(row * Columns, columns);

    internal ReadOnlySpan<int> AllIndices => _indices;
    internal ReadOnlySpan<double> AllSimilarities => _similarities;
    internal ReadOnlySpan<double> AllSelfSimilarities => _selfSimilarities;

    /// <summary>The Gram diagonal G_ii (the lists exclude it below k = N).</summary>
    public double SelfSimilarity(int row) => _selfSimilarities[row];

    /// <summary>A comparison of two ordered lists with two rows of dynamic-programming scratch.</summary>
    public delegate int RowComparison(ReadOnlySpan<int> x, ReadOnlySpan<int> y, Span<int> previous, Span<int> current);

    /// <summary>Σ_i compare(NN_A(i), NN_B(i)) over the first <paramref name="columns"/> columns, one scratch for all rows.</summary>
    public static long SumOverRows(NeighbourLists a, NeighbourLists b, int columns, RowComparison compare)
    {
        var previous = new int[columns + 1];
        var current = new int[columns + 1];
        long total = 0;
        for (int i = 0; i < a.SampleCount; i++)
            total += compare(a.Indices(i, columns), b.Indices(i, columns), previous, current);
        return total;
    }

    /// <summary>Empty lists of the same shape, for <see cref="RelabelInto"/> to fill draw after draw.</summary>
    public NeighbourLists EmptyLike() => new(SampleCount, Columns, new int[_indices.Length], new double[_similarities.Length], new double[SampleCount]);

    /// <summary>
    /// The lists of the permuted samples <c>Y[π]</c> without a new neighbour search (CALIBRATION.md §2.2,
    /// <c>knn_Y_perm = inv(π)[knn_Y[π]]</c>): row r is original row π[r], its neighbours renamed by π⁻¹, its
    /// similarities and self-similarity carried along. Each row keeps its order, so equal similarities stay in
    /// the original lower-index order rather than the permuted one; with ties at the k-th column a fresh search
    /// on the permuted features could keep another member of the tie (the reference's relabelled null does
    /// what this does). Writes into <paramref name="target"/> (from <see cref="EmptyLike"/>): no allocation.
    /// </summary>
    public void RelabelInto(SamplePermutation permutation, NeighbourLists target)
    {
        if (permutation.SampleCount != SampleCount || target.SampleCount != SampleCount || target.Columns != Columns)
            throw new ArgumentException($"relabelling {SampleCount} x {Columns} lists with a permutation of {permutation.SampleCount} into {target.SampleCount} x {target.Columns}");
        var forward = permutation.Forward;
        var inverse = permutation.Inverse;
        for (int r = 0; r < SampleCount; r++)
        {
            int u = forward[r];
            var from = _indices.AsSpan(u * Columns, Columns);
            var to = target._indices.AsSpan(r * Columns, Columns);
            for (int t = 0; t < from.Length; t++) to[t] = inverse[from[t]];
            _similarities.AsSpan(u * Columns, Columns).CopyTo(target._similarities.AsSpan(r * Columns, Columns));
            target._selfSimilarities[r] = _selfSimilarities[u];
        }
    }

    /// <summary>Builds the lists of <paramref name="topk"/> columns from a full N x N Gram matrix.</summary>
    public static NeighbourLists FromGram(ReadOnlySpan<double> gram, int n, int topk)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(topk);
        int columns = ColumnsFor(n, topk);
        int others = Math.Min(columns, n - 1);
        var indices = new int[n * columns];
        var similarities = new double[n * columns];
        var selfSimilarities = new double[n];
        // Large k: sort each row once; the buffers and the comparer are made once for all rows.
        int[]? order = others > SmallK ? new int[n - 1] : null;
        double[] values = order is null ? [] : new double[n];
        Comparison<int> byValueThenIndex = (a, b) =>
        {
            int byValue = values[b].CompareTo(values[a]);
            return byValue != 0 ? byValue : a.CompareTo(b);
        };
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<double> row = gram.Slice(i * n, n);
            Span<int> idx = indices.AsSpan(i * columns, columns);
            Span<double> sim = similarities.AsSpan(i * columns, columns);
            selfSimilarities[i] = row[i];
            if (order is null) TopByInsertion(row, i, idx[..others], sim[..others]);
            else
            {
                row.CopyTo(values);
                TopBySorting(values, i, order, byValueThenIndex, idx[..others], sim[..others]);
            }
            if (columns > others)
            {
                // k >= N: the reference's -1e8 diagonal sorts last.
                idx[others] = i;
                sim[others] = row[i];
            }
        }
        return new NeighbourLists(n, columns, indices, similarities, selfSimilarities);
    }

    private const int SmallK = 48;

    /// <summary>
    /// One pass keeping a descending buffer; scanning j upward and admitting only strictly greater
    /// values means an equal value keeps the lower index ahead.
    /// </summary>
    private static void TopByInsertion(ReadOnlySpan<double> row, int self, Span<int> idx, Span<double> sim)
    {
        int k = idx.Length, filled = 0;
        if (k == 0) return;
        for (int j = 0; j < row.Length; j++)
        {
            if (j == self) continue;
            double v = row[j];
            if (filled == k && !(v > sim[k - 1])) continue;
            int p = filled < k ? filled++ : k - 1;
            while (p > 0 && v > sim[p - 1])
            {
                sim[p] = sim[p - 1];
                idx[p] = idx[p - 1];
                p--;
            }
            sim[p] = v;
            idx[p] = j;
        }
    }

    private static void TopBySorting(double[] values, int self, int[] order, Comparison<int> comparison, Span<int> idx, Span<double> sim)
    {
        int c = 0;
        for (int j = 0; j < values.Length; j++) if (j != self) order[c++] = j;
        Array.Sort(order, comparison);
        for (int t = 0; t < idx.Length; t++)
        {
            idx[t] = order[t];
            sim[t] = values[order[t]];
        }
    }
}
