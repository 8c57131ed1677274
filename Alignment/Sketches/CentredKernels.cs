namespace Prh.Alignment.Sketches;

/// <summary>
/// The centred kernels of a list of layers (one model's, or a block's: several models' layers back to
/// back) for one kernel function, holding what both HSICs need, so cka and unbiased_cka of every layer
/// pair come from one matrix product of two stacks (ALGORITHMS.md, "All pairs at once"):
/// <list type="bullet">
/// <item>biased: hsic(K, L) = trace(K H L H) = &lt;Kc, Lc&gt; with Kc = H K H;</item>
/// <item>unbiased (Song et al. 2012): N (N - 3) hsic_u(K, L) = &lt;U_K, U_L&gt; = &lt;Kc, Lc&gt; + Δ(K, L), where
/// U - Kc = α 1ᵀ + 1 αᵀ - diag(e) (U-centring differs from H K H by a rank-two term and the diagonal), so
/// Δ = 2N α_K·α_L - e_K·e_L + 2 Σα_K Σα_L: two products of N-vectors, not of kernels.</item>
/// </list>
/// With r = K 1, d = diag K, s = Σ r, the U-centring offsets are a_i = r_i/N - (r_i - d_i)/(N-2) and
/// c = (s - Σd)/((N-1)(N-2)) - s/N²; α = a + c/2 and e = diag(Kc) + 2α.
/// <para>Row l of <see cref="Stack"/> is layer l's Kc packed as its upper triangle with the diagonal,
/// off-diagonal entries times sqrt(2), so the dot product of two rows is &lt;Kc, Lc&gt; at half the
/// memory and multiply-adds. The store keeps each off-diagonal value in 6 bytes, rounded to 36 fraction
/// bits (relative error at most 2^-37 ≈ 7e-12, see <see cref="SketchCodec"/>), and not the diagonal,
/// which is e - 2α.</para>
/// </summary>
public sealed class CentredKernels
{
    internal CentredKernels(int sampleCount, int layerCount, KernelFunction kernel, Memory<double> stack,
        double[] alpha, double[] excess, double[] alphaSum, double[] selfBiased, double[] selfUnbiased)
    {
        SampleCount = sampleCount;
        LayerCount = layerCount;
        Kernel = kernel;
        Stack = stack;
        Alpha = alpha;
        Excess = excess;
        AlphaSum = alphaSum;
        SelfBiased = selfBiased;
        SelfUnbiased = selfUnbiased;
    }

    public int SampleCount { get; }
    public int LayerCount { get; }
    public KernelFunction Kernel { get; }

    /// <summary>L x P, row l = the packed Kc of layer l.</summary>
    public Memory<double> Stack { get; }

    /// <summary>L x N: α of each layer (the U-centring's row offset, see the class comment).</summary>
    public double[] Alpha { get; }

    /// <summary>L x N: e = diag(Kc) + 2α of each layer.</summary>
    public double[] Excess { get; }

    /// <summary>Σ α per layer.</summary>
    public double[] AlphaSum { get; }

    /// <summary>Biased hsic(K_l, K_l) = &lt;Kc, Kc&gt; per layer.</summary>
    public double[] SelfBiased { get; }

    /// <summary>Unbiased hsic(K_l, K_l), already divided by N (N - 3), per layer.</summary>
    public double[] SelfUnbiased { get; }

    /// <summary>Values per packed row: the upper triangle with the diagonal.</summary>
    public int PackedSize => PackedLength(SampleCount);

    public static int PackedLength(int n) => checked(n * (n + 1) / 2);

    /// <summary>Bytes of one layer's packed row in memory (float64).</summary>
    public static long RowBytes(int n) => (long)PackedLength(n) * sizeof(double);

    public Span<double> Row(int layer) => Stack.Span.Slice(layer * PackedSize, PackedSize);

    /// <summary>
    /// The unbiased HSIC from the packed inner product and the N-vector products α_K·α_L and e_K·e_L:
    /// (&lt;Kc, Lc&gt; + 2N α_K·α_L - e_K·e_L + 2 Σα_K Σα_L) / (N (N - 3)).
    /// </summary>
    public static double Unbiased(int n, double inner, double alphaDot, double excessDot, double alphaSumX, double alphaSumY) =>
        (inner + 2.0 * n * alphaDot - excessDot + 2 * alphaSumX * alphaSumY) / ((double)n * (n - 3));

    private static readonly double Sqrt2 = Math.Sqrt(2);

    /// <summary>Rounds to 36 fraction bits (half away from zero): the precision the store keeps.</summary>
    public static double Round(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        return BitConverter.Int64BitsToDouble((bits + 0x8000) & ~0xFFFFL);
    }

    /// <summary>
    /// Whether the store keeps a model's kernels: their off-diagonal values at 6 bytes take no more than
    /// the model's feature values at 4 bytes, i.e. its layers are on average at least about 3N/4 wide.
    /// Narrower models' kernels are rebuilt from the features where a tile needs them, which costs N^2 D
    /// per layer: cheap in proportion to the narrowness that made them not worth storing.
    /// </summary>
    public static bool Stored(int sampleCount, IReadOnlyList<int> layerWidths)
    {
        long n = sampleCount;
        return 6 * (n * (n - 1) / 2) * layerWidths.Count <= 4 * n * layerWidths.Sum(w => (long)w);
    }

    /// <summary>
    /// Turns layer <paramref name="layer"/>'s Gram matrix (N x N, full; overwritten) into its packed
    /// row of <paramref name="into"/> and its U-centring terms.
    /// </summary>
    internal static void FromGram(Span<double> gram, int n, KernelFunction kernel, CentredKernels into, int layer)
    {
        if (kernel.IsRbf) ToRbf(gram, n, kernel.Sigma);
        Span<double> rowSums = n <= 4096 ? stackalloc double[n] : new double[n];
        Span<double> diagonal = n <= 4096 ? stackalloc double[n] : new double[n];
        double total = 0, trace = 0;
        for (int i = 0; i < n; i++)
        {
            double s = 0;
            foreach (double v in gram.Slice(i * n, n)) s += v;
            rowSums[i] = s;
            total += s;
            diagonal[i] = gram[i * n + i];
            trace += diagonal[i];
        }

        // α_i = a_i + c/2 with a_i = r_i/N - (r_i - d_i)/(N-2), c = (s - trace)/((N-1)(N-2)) - s/N².
        double nn = n;
        double c = (total - trace) / ((nn - 1) * (nn - 2)) - total / (nn * nn);
        var alpha = into.Alpha.AsSpan(layer * n, n);
        var excess = into.Excess.AsSpan(layer * n, n);
        double alphaSum = 0;
        for (int i = 0; i < n; i++)
        {
            alpha[i] = rowSums[i] / nn - (rowSums[i] - diagonal[i]) / (nn - 2) + c / 2;
            alphaSum += alpha[i];
        }

        // (H K H)_ij = K_ij - mean_i - mean_j + grand mean (K symmetric: row means = column means).
        double grand = total / (nn * nn);
        for (int i = 0; i < n; i++) rowSums[i] /= nn;
        var packed = into.Row(layer);
        int p = 0;
        for (int i = 0; i < n; i++)
        {
            var row = gram.Slice(i * n, n);
            double ri = rowSums[i] - grand;
            double centredDiagonal = row[i] - ri - rowSums[i];
            excess[i] = centredDiagonal + 2 * alpha[i];
            packed[p++] = centredDiagonal;
            for (int j = i + 1; j < n; j++) packed[p++] = Sqrt2 * (row[j] - ri - rowSums[j]);
        }
        into.AlphaSum[layer] = alphaSum;
        into.CompleteLayer(layer);
    }

    /// <summary>The per-layer self-HSICs, from the packed row and the U-centring terms (after a build or a decode).</summary>
    internal void CompleteLayer(int layer)
    {
        int n = SampleCount;
        var row = Row(layer);
        var alpha = Alpha.AsSpan(layer * n, n);
        var excess = Excess.AsSpan(layer * n, n);
        double inner = Compute.ManagedBlas.Dot(row, row);
        SelfBiased[layer] = inner;
        SelfUnbiased[layer] = Unbiased(n, inner, Compute.ManagedBlas.Dot(alpha, alpha), Compute.ManagedBlas.Dot(excess, excess),
            AlphaSum[layer], AlphaSum[layer]);
    }

    /// <summary>Empty kernels for <paramref name="layerCount"/> layers, their stack in <paramref name="stack"/> (or a new array).</summary>
    public static CentredKernels Allocate(int sampleCount, int layerCount, KernelFunction kernel, Memory<double>? stack = null)
    {
        long values = (long)PackedLength(sampleCount) * layerCount;
        if (values > Array.MaxLength)
            throw new InvalidOperationException($"{layerCount} layers of {sampleCount} x {sampleCount} kernels exceed one array; use a smaller memory budget per block");
        var memory = stack ?? GC.AllocateUninitializedArray<double>((int)values);
        if (memory.Length < values) throw new ArgumentException($"the stack buffer holds {memory.Length} values, {values} are needed");
        int vectors = checked(sampleCount * layerCount);
        return new CentredKernels(sampleCount, layerCount, kernel, memory[..(int)values],
            new double[vectors], new double[vectors], new double[layerCount], new double[layerCount], new double[layerCount]);
    }

    /// <summary>
    /// The kernels of several lists of layers back to back (a block), the stack copied into
    /// <paramref name="stack"/> (or a new array); all parts must share N and the kernel function.
    /// </summary>
    public static CentredKernels Concatenate(IReadOnlyList<CentredKernels> parts, Memory<double>? stack = null)
    {
        if (parts.Count == 0) throw new ArgumentException("no kernels to concatenate");
        if (parts.Count == 1 && stack is null) return parts[0];
        int n = parts[0].SampleCount;
        var kernel = parts[0].Kernel;
        if (parts.Any(p => p.SampleCount != n || p.Kernel != kernel))
            throw new ArgumentException("kernels of different N or kernel functions cannot share a block");
        var result = Allocate(n, parts.Sum(p => p.LayerCount), kernel, stack);
        int offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.LayerCount;
        }
        return result;
    }

    /// <summary>Copies every layer into <paramref name="target"/> from its layer <paramref name="firstLayer"/> on.</summary>
    public void CopyTo(CentredKernels target, int firstLayer)
    {
        int n = SampleCount;
        Stack.Span.CopyTo(target.Stack.Span.Slice(firstLayer * PackedSize, LayerCount * PackedSize));
        Alpha.CopyTo(target.Alpha, firstLayer * n);
        Excess.CopyTo(target.Excess, firstLayer * n);
        AlphaSum.CopyTo(target.AlphaSum, firstLayer);
        SelfBiased.CopyTo(target.SelfBiased, firstLayer);
        SelfUnbiased.CopyTo(target.SelfUnbiased, firstLayer);
    }

    /// <summary>
    /// Layer <paramref name="layer"/>'s packed row unfolded into a full N x N row-major matrix (both triangles,
    /// the packing's scale kept: off-diagonal entries times sqrt(2)), so that a permuted packed row reads one
    /// contiguous source row (<see cref="GatherPermuted"/>).
    /// </summary>
    public void Unfold(int layer, Span<double> full)
    {
        int n = SampleCount;
        if (full.Length < (long)n * n) throw new ArgumentException($"an unfolded kernel needs {(long)n * n} values, the buffer holds {full.Length}");
        ReadOnlySpan<double> packed = Row(layer);
        int p = 0;
        for (int i = 0; i < n; i++)
        {
            full[i * n + i] = packed[p++];
            for (int j = i + 1; j < n; j++) full[i * n + j] = full[j * n + i] = packed[p++];
        }
    }

    /// <summary>
    /// The packed row of the permuted kernel P K Pᵀ (the kernel of <c>Y[π]</c>: entry (r, s) = K[π r, π s]),
    /// no new Gram and no centring: centring commutes with a permutation, so (P K Pᵀ)c = P Kc Pᵀ, and the
    /// diagonal maps to the diagonal, so the packing's sqrt(2) scale carries over. Row r of the packed upper
    /// triangle reads only row π[r] of the <paramref name="unfolded"/> matrix (<see cref="Unfold"/>), at columns π[s], s ≥ r.
    /// </summary>
    public static void GatherPermuted(ReadOnlySpan<double> unfolded, int n, SamplePermutation permutation, Span<double> packed)
    {
        var forward = permutation.Forward;
        int p = 0;
        for (int r = 0; r < n; r++)
        {
            var source = unfolded.Slice(forward[r] * n, n);
            var target = packed.Slice(p, n - r);
            var columns = forward[r..];
            for (int t = 0; t < target.Length; t++) target[t] = source[columns[t]];
            p += n - r;
        }
    }

    /// <summary>v[π]: an N-vector of the samples (α or e of a layer) for the permuted samples.</summary>
    public static void PermuteVector(ReadOnlySpan<double> vector, SamplePermutation permutation, Span<double> permuted)
    {
        var forward = permutation.Forward;
        for (int r = 0; r < forward.Length; r++) permuted[r] = vector[forward[r]];
    }

    /// <summary>
    /// exp(-d^2 / (2 sigma^2)) with d^2 = G_ii + G_jj - 2 G_ij clamped at 0, as torch.cdist's
    /// matrix-product path does; the diagonal is exactly 1. Each entry needs only itself and the
    /// diagonal, which is saved first.
    /// </summary>
    private static void ToRbf(Span<double> gram, int n, double sigma)
    {
        double twoSigmaSquared = 2 * sigma * sigma;
        var diagonal = new double[n];
        for (int i = 0; i < n; i++) diagonal[i] = gram[i * n + i];
        for (int i = 0; i < n; i++)
        {
            var row = gram.Slice(i * n, n);
            for (int j = 0; j < n; j++)
                row[j] = Math.Exp(-Math.Max(diagonal[i] + diagonal[j] - 2 * row[j], 0) / twoSigmaSquared);
        }
    }
}
