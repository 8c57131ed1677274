using Prh.Alignment.Compute;
using Prh.Alignment.Features;

namespace Prh.Alignment.Sketches;

/// <summary>
/// The SVCCA sketch of a layer: the top <c>cca_dim</c> left singular vectors of its standardised
/// features (columns centred, divided by unbiased std + 1e-8, as the reference's svcca). Computed
/// exactly and deterministically from the eigen-decomposition of the smaller of Xs^T Xs and Xs Xs^T,
/// not with the reference's randomised <c>svd_lowrank</c> (biased on flat spectra, and seed-dependent).
/// The vectors are centred (they lie in the column space of Xs), so the canonical correlations of two
/// layers are the singular values of Q_A^T Q_B.
/// </summary>
public sealed class SvccaBasis
{
    internal SvccaBasis(int sampleCount, int dimension, double[] vectors)
    {
        SampleCount = sampleCount;
        Dimension = dimension;
        Vectors = vectors;
    }

    public int SampleCount { get; }
    public int Dimension { get; }

    /// <summary>Dimension x N, row t = singular vector t (orthonormal rows).</summary>
    public double[] Vectors { get; }

    /// <summary>
    /// The basis of the permuted samples <c>Y[π]</c>: standardising and the SVD commute with a row permutation,
    /// so its vectors are these with their sample entries permuted (entry r of vector t is entry π[r]).
    /// </summary>
    public SvccaBasis Permuted(SamplePermutation permutation)
    {
        int n = SampleCount;
        var forward = permutation.Forward;
        var vectors = new double[Vectors.Length];
        for (int t = 0; t < Dimension; t++)
        {
            var from = Vectors.AsSpan(t * n, n);
            var to = vectors.AsSpan(t * n, n);
            for (int r = 0; r < n; r++) to[r] = from[forward[r]];
        }
        return new SvccaBasis(n, Dimension, vectors);
    }

    /// <summary>The reference's standardisation epsilon (added to the std).</summary>
    public const double StdEpsilon = 1e-8;

    /// <summary>Below this fraction of the top eigenvalue a direction counts as numerically absent.</summary>
    private const double RankTolerance = 1e-8;

    public static SvccaBasis Compute(LayerFeatures layer, int dimension, IBlas blas)
    {
        int n = layer.SampleCount, d = layer.Width;
        if (dimension < 1 || dimension > Math.Min(n, d))
            throw new ArgumentOutOfRangeException(nameof(dimension), $"cca_dim={dimension} must be between 1 and min(N, D) = {Math.Min(n, d)}");
        double[] xs = Standardise(layer);
        double[] basis = new double[dimension * n];
        if (d <= n && TryFromFeatureCovariance(xs, n, d, dimension, blas, basis))
            return new SvccaBasis(n, dimension, basis);
        FromSampleGram(xs, n, d, dimension, blas, basis);
        return new SvccaBasis(n, dimension, basis);
    }

    /// <summary>act = (act - mean(act, 0)) / (std(act, 0) + 1e-8), std unbiased (torch.std's default).</summary>
    internal static double[] Standardise(LayerFeatures layer)
    {
        int n = layer.SampleCount, d = layer.Width;
        double[] x = layer.ToArray();
        var mean = new double[d];
        var sq = new double[d];
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) mean[j] += row[j];
        }
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) { row[j] -= mean[j]; sq[j] += row[j] * row[j]; }
        }
        for (int j = 0; j < d; j++) sq[j] = Math.Sqrt(sq[j] / (n - 1)) + StdEpsilon;
        for (int i = 0; i < n; i++)
        {
            var row = x.AsSpan(i * d, d);
            for (int j = 0; j < d; j++) row[j] /= sq[j];
        }
        return x;
    }

    /// <summary>D &lt;= N: eigenvectors v of Xs^T Xs (D x D) give u = Xs v / |Xs v|.</summary>
    private static bool TryFromFeatureCovariance(double[] xs, int n, int d, int dimension, IBlas blas, double[] basis)
    {
        var xt = new double[d * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) xt[j * n + i] = xs[i * d + j];
        var cov = new double[d * d];
        blas.Syrk(xt, d, n, cov);
        var eigenvalues = new double[d];
        SymmetricEigen.Decompose(cov, d, eigenvalues);
        if (!(eigenvalues[dimension - 1] > RankTolerance * eigenvalues[0]))
            return false; // rank below cca_dim: u = Xs v would be noise; use the N x N problem instead
        blas.GemmNT(cov.AsSpan(0, dimension * d), dimension, xs, n, d, basis);
        Orthonormalise(basis, dimension, n);
        return true;
    }

    /// <summary>D > N (or rank-deficient): eigenvectors of Xs Xs^T (N x N) are the u directly.</summary>
    private static void FromSampleGram(double[] xs, int n, int d, int dimension, IBlas blas, double[] basis)
    {
        var gram = new double[n * n];
        blas.Syrk(xs, n, d, gram);
        var eigenvalues = new double[n];
        SymmetricEigen.Decompose(gram, n, eigenvalues);
        gram.AsSpan(0, dimension * n).CopyTo(basis);
    }

    /// <summary>Modified Gram-Schmidt on the rows, removing the rounding left by u = Xs v.</summary>
    private static void Orthonormalise(double[] rows, int count, int n)
    {
        for (int t = 0; t < count; t++)
        {
            var row = rows.AsSpan(t * n, n);
            for (int s = 0; s < t; s++)
            {
                var prev = rows.AsSpan(s * n, n);
                double dot = ManagedBlas.Dot(row, prev);
                for (int i = 0; i < n; i++) row[i] -= dot * prev[i];
            }
            double norm = Math.Sqrt(ManagedBlas.Dot(row, row));
            for (int i = 0; i < n; i++) row[i] /= norm;
        }
    }
}
