namespace Prh.Alignment.Sketches;

/// <summary>
/// One centred kernel matrix per layer of a model, stored back to back (row l of an L x P matrix)
/// so that every layer pair's HSIC numerator between two models is one matrix product
/// (see ALGORITHMS.md, "All pairs at once"). The kernels are symmetric, so each row holds only the
/// upper triangle, P = N (N + 1) / 2 values, with the off-diagonal entries scaled by sqrt(2): the
/// dot product of two packed rows is then exactly the Frobenius product &lt;K, L&gt;, at half the memory
/// and half the multiply-adds. <see cref="Hsic"/> holds each layer's self-HSIC.
/// </summary>
public sealed class CentredKernels
{
    internal CentredKernels(int sampleCount, int layerCount, KernelFunction kernel, Centring centring, double[] stack, double[] hsic)
    {
        SampleCount = sampleCount;
        LayerCount = layerCount;
        Kernel = kernel;
        Centring = centring;
        Stack = stack;
        Hsic = hsic;
    }

    public int SampleCount { get; }
    public int LayerCount { get; }
    public KernelFunction Kernel { get; }
    public Centring Centring { get; }

    /// <summary>L x P, row l = the packed centred kernel of layer l.</summary>
    public double[] Stack { get; }

    /// <summary>hsic(K_l, K_l) per layer, already divided by N (N - 3) for <see cref="Centring.Unbiased"/>.</summary>
    public double[] Hsic { get; }

    /// <summary>Values per packed row: the upper triangle with the diagonal.</summary>
    public int PackedSize => PackedLength(SampleCount);

    public static int PackedLength(int n) => checked(n * (n + 1) / 2);

    private static readonly double Sqrt2 = Math.Sqrt(2);

    /// <summary>Packs a symmetric N x N matrix's upper triangle, off-diagonal entries times sqrt(2).</summary>
    internal static void Pack(ReadOnlySpan<double> full, int n, Span<double> packed)
    {
        int p = 0;
        for (int i = 0; i < n; i++)
        {
            packed[p++] = full[i * n + i];
            var row = full.Slice(i * n + i + 1, n - i - 1);
            var dst = packed.Slice(p, row.Length);
            for (int j = 0; j < row.Length; j++) dst[j] = Sqrt2 * row[j];
            p += row.Length;
        }
    }

    /// <summary>The HSIC of two kernels from the inner product of their centred matrices.</summary>
    public double HsicFromInnerProduct(double innerProduct)
    {
        double n = SampleCount;
        return Centring == Centring.Unbiased ? innerProduct / (n * (n - 3)) : innerProduct;
    }

    /// <summary>Turns a Gram matrix (N x N, in place) into the centred kernel.</summary>
    internal static void CentreInPlace(Span<double> target, int n, KernelFunction kernel, Centring centring)
    {
        if (kernel.IsRbf)
        {
            // exp(-d^2 / (2 sigma^2)) with d^2 = G_ii + G_jj - 2 G_ij clamped at 0, as torch.cdist's
            // matrix-product path does; the diagonal is exactly 0. Each entry needs only itself and
            // the diagonal, which is saved first.
            double twoSigmaSquared = 2 * kernel.Sigma * kernel.Sigma;
            var diagonal = new double[n];
            for (int i = 0; i < n; i++) diagonal[i] = target[i * n + i];
            for (int i = 0; i < n; i++)
            {
                var row = target.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                    row[j] = Math.Exp(-Math.Max(diagonal[i] + diagonal[j] - 2 * row[j], 0) / twoSigmaSquared);
            }
        }

        Span<double> rowSums = n <= 4096 ? stackalloc double[n] : new double[n];
        if (centring == Centring.Biased)
        {
            // (H K H)_ij = K_ij - mean_i - mean_j + grand mean (K symmetric: row means = column means).
            double total = RowSums(target, n, rowSums, zeroDiagonal: false);
            double grand = total / ((double)n * n);
            for (int i = 0; i < n; i++) rowSums[i] /= n;
            for (int i = 0; i < n; i++)
            {
                Span<double> row = target.Slice(i * n, n);
                double ri = rowSums[i] - grand;
                for (int j = 0; j < n; j++) row[j] -= ri + rowSums[j];
            }
        }
        else
        {
            // U_ij = Kt_ij - r_i/(N-2) - r_j/(N-2) + s/((N-1)(N-2)) off the diagonal, U_ii = 0,
            // with Kt = K with a zero diagonal, r its row sums and s its total.
            double total = RowSums(target, n, rowSums, zeroDiagonal: true);
            double shift = total / ((n - 1.0) * (n - 2.0));
            for (int i = 0; i < n; i++) rowSums[i] /= n - 2.0;
            for (int i = 0; i < n; i++)
            {
                Span<double> row = target.Slice(i * n, n);
                double ri = rowSums[i] - shift;
                for (int j = 0; j < n; j++) row[j] -= ri + rowSums[j];
                row[i] = 0;
            }
        }
    }

    private static double RowSums(Span<double> k, int n, Span<double> rowSums, bool zeroDiagonal)
    {
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            if (zeroDiagonal) k[i * n + i] = 0;
            double s = 0;
            foreach (double v in k.Slice(i * n, n)) s += v;
            rowSums[i] = s;
            total += s;
        }
        return total;
    }
}
