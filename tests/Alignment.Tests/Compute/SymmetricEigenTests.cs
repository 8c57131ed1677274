using Prh.Alignment.Compute;

namespace Prh.Alignment.Tests.Compute;

public class SymmetricEigenTests
{
    private const double Tol = 1e-12;

    // ---- helpers ----

    private static double[] RandomSymmetric(int n, int seed)
    {
        var rng = new Random(seed);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i * n + j] = a[j * n + i] = 2 * rng.NextDouble() - 1;
        return a;
    }

    /// <summary>Random orthogonal matrix (rows) by Gram-Schmidt (twice) on a random matrix.</summary>
    private static double[] RandomOrthogonal(int n, int seed)
    {
        var rng = new Random(seed);
        var q = new double[n * n];
        for (int i = 0; i < q.Length; i++) q[i] = 2 * rng.NextDouble() - 1;
        for (int i = 0; i < n; i++)
            for (int pass = 0; pass < 2; pass++)
            {
                for (int j = 0; j < i; j++)
                {
                    double dot = 0;
                    for (int k = 0; k < n; k++) dot += q[i * n + k] * q[j * n + k];
                    for (int k = 0; k < n; k++) q[i * n + k] -= dot * q[j * n + k];
                }
                double norm = 0;
                for (int k = 0; k < n; k++) norm += q[i * n + k] * q[i * n + k];
                norm = Math.Sqrt(norm);
                for (int k = 0; k < n; k++) q[i * n + k] /= norm;
            }
        return q;
    }

    /// <summary>A = sum_i lambda_i q_i q_i^T for orthonormal rows q_i.</summary>
    private static double[] FromSpectrum(double[] q, double[] lambda)
    {
        int n = lambda.Length;
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int r = 0; r < n; r++)
                for (int c = 0; c < n; c++)
                    a[r * n + c] += lambda[i] * q[i * n + r] * q[i * n + c];
        for (int r = 0; r < n; r++)
            for (int c = 0; c < r; c++)
                a[r * n + c] = a[c * n + r]; // exact symmetry
        return a;
    }

    private static double FrobeniusNorm(double[] a) => Math.Sqrt(a.Sum(v => v * v));

    private static (double[] Values, double[] Vectors) Solve(double[] a, int n)
    {
        var v = (double[])a.Clone();
        var w = new double[n];
        SymmetricEigen.Decompose(v, n, w);
        return (w, v);
    }

    /// <summary>Residuals, orthonormality, order, trace and sign convention; tolerances relative to ||A||_F.</summary>
    private static void AssertValidDecomposition(double[] a, int n, double[] w, double[] v, double tol = Tol)
    {
        double scale = Math.Max(FrobeniusNorm(a), double.Epsilon);
        double tolN = tol * Math.Max(1, Math.Sqrt(n)); // error grows mildly with n

        for (int i = 0; i + 1 < n; i++)
            Assert.True(w[i] >= w[i + 1], $"not descending at {i}: {w[i]} < {w[i + 1]}");

        double trace = 0, sum = 0;
        for (int i = 0; i < n; i++) { trace += a[i * n + i]; sum += w[i]; }
        Assert.True(Math.Abs(trace - sum) <= tolN * scale * Math.Sqrt(n), $"trace {trace} vs sum {sum}");

        for (int i = 0; i < n; i++)
        {
            // ||A v - lambda v||
            double res = 0;
            for (int r = 0; r < n; r++)
            {
                double av = 0;
                for (int c = 0; c < n; c++) av += a[r * n + c] * v[i * n + c];
                double diff = av - w[i] * v[i * n + r];
                res += diff * diff;
            }
            Assert.True(Math.Sqrt(res) <= tolN * scale, $"residual {Math.Sqrt(res)} for eigenpair {i} (||A|| {scale})");

            for (int j = 0; j <= i; j++)
            {
                double dot = 0;
                for (int k = 0; k < n; k++) dot += v[i * n + k] * v[j * n + k];
                Assert.True(Math.Abs(dot - (i == j ? 1 : 0)) <= tolN, $"V V^T[{i},{j}] = {dot}");
            }

            // sign convention: the largest |component| (first on ties) is positive
            int arg = 0;
            for (int k = 1; k < n; k++)
                if (Math.Abs(v[i * n + k]) > Math.Abs(v[i * n + arg])) arg = k;
            Assert.True(v[i * n + arg] > 0, $"eigenvector {i} has negative dominant component");
        }
    }

    // ---- random matrices ----

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(50)]
    [InlineData(200)]
    public void RandomSymmetric_IsDecomposed(int n)
    {
        var a = RandomSymmetric(n, 1000 + n);
        var (w, v) = Solve(a, n);
        AssertValidDecomposition(a, n, w, v);
    }

    [Fact]
    public void Empty_IsNoOp()
    {
        SymmetricEigen.Decompose(Span<double>.Empty, 0, Span<double>.Empty);
    }

    [Fact]
    public void OneByOne_GivesValueAndUnitVector()
    {
        var (w, v) = Solve([-3.5], 1);
        Assert.Equal(-3.5, w[0]);
        Assert.Equal(1.0, v[0]);
    }

    [Fact]
    public void TwoByTwo_MatchesClosedForm()
    {
        // [[2,1],[1,2]]: eigenvalues 3 and 1, vectors (1,1)/sqrt2 and (1,-1)/sqrt2 (sign: first on ties)
        var (w, v) = Solve([2, 1, 1, 2], 2);
        Assert.Equal(3, w[0], 14);
        Assert.Equal(1, w[1], 14);
        double s = Math.Sqrt(0.5);
        Assert.Equal(s, v[0], 14);
        Assert.Equal(s, v[1], 14);
        Assert.Equal(s, v[2], 14);
        Assert.Equal(-s, v[3], 14);
    }

    // ---- degenerate cases ----

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(40)]
    public void Identity_GivesOnesAndOrthonormalBasis(int n)
    {
        var a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = 1;
        var (w, v) = Solve(a, n);
        Assert.All(w, x => Assert.Equal(1.0, x));
        AssertValidDecomposition(a, n, w, v);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(6)]
    [InlineData(33)]
    public void Zero_GivesZerosAndOrthonormalBasis(int n)
    {
        var a = new double[n * n];
        var (w, v) = Solve(a, n);
        Assert.All(w, x => Assert.Equal(0.0, x));
        AssertValidDecomposition(a, n, w, v);
    }

    [Fact]
    public void RankOne_GivesNormSquaredAndZeros()
    {
        const int n = 30;
        var rng = new Random(7);
        var u = Enumerable.Range(0, n).Select(_ => 2 * rng.NextDouble() - 1).ToArray();
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                a[i * n + j] = u[i] * u[j];
        double uu = u.Sum(x => x * x);

        var (w, v) = Solve(a, n);
        AssertValidDecomposition(a, n, w, v);
        Assert.True(Math.Abs(w[0] - uu) <= Tol * uu);
        for (int i = 1; i < n; i++) Assert.True(Math.Abs(w[i]) <= Tol * uu, $"w[{i}] = {w[i]}");

        // top eigenvector is +-u/|u|, signed so its dominant component is positive
        double norm = Math.Sqrt(uu), dot = 0;
        for (int k = 0; k < n; k++) dot += v[k] * u[k] / norm;
        Assert.True(Math.Abs(Math.Abs(dot) - 1) <= Tol);
    }

    [Fact]
    public void RepeatedEigenvalues_AreRecovered()
    {
        const int n = 24;
        var lambda = new double[n];
        for (int i = 0; i < n; i++) lambda[i] = i < 8 ? 5 : i < 14 ? -2 : i < 20 ? 0 : 1e-3;
        var q = RandomOrthogonal(n, 11);
        var a = FromSpectrum(q, lambda);

        var (w, v) = Solve(a, n);
        AssertValidDecomposition(a, n, w, v);
        var expected = lambda.OrderByDescending(x => x).ToArray();
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(w[i] - expected[i]) <= 1e-12 * 5 * n, $"w[{i}] = {w[i]} vs {expected[i]}");
    }

    [Fact]
    public void Diagonal_Unsorted_IsSortedWithUnitVectors()
    {
        double[] diag = [3, -1, 7, 0, 7, 2.5, -8, 1e-9];
        int n = diag.Length;
        var a = new double[n * n];
        for (int i = 0; i < n; i++) a[i * n + i] = diag[i];

        var (w, v) = Solve(a, n);
        Assert.Equal(diag.OrderByDescending(x => x).ToArray(), w);
        AssertValidDecomposition(a, n, w, v);
        for (int i = 0; i < n; i++)
        {
            // each eigenvector is a unit coordinate vector e_k with diag[k] == w[i]
            int k = Array.FindIndex(v, i * n, n, x => x != 0) - i * n;
            Assert.Equal(1.0, v[i * n + k]);
            Assert.Equal(w[i], diag[k]);
        }
    }

    [Fact]
    public void HugeDynamicRange_IsAccurateRelativeToNorm()
    {
        const int n = 20;
        var lambda = new double[n];
        for (int i = 0; i < n; i++) lambda[i] = (i % 2 == 0 ? 1 : -1) * Math.Pow(10, -12 + (24.0 * i) / (n - 1));
        var q = RandomOrthogonal(n, 5);
        var a = FromSpectrum(q, lambda);

        var (w, v) = Solve(a, n);
        AssertValidDecomposition(a, n, w, v);

        // and a diagonal with entries from 1e-150 to 1e150 (exercises the tred2 scaling)
        var b = new double[n * n];
        for (int i = 0; i < n; i++) b[i * n + i] = Math.Pow(10, -150 + 300.0 * ((i * 7) % n) / (n - 1));
        b[1] = b[n] = 1e140; // couple two coordinates
        var (wb, vb) = Solve(b, n);
        AssertValidDecomposition(b, n, wb, vb);
    }

    // ---- Gram matrix vs SVD ----

    [Fact]
    public void GramMatrix_EigenvaluesAreSquaredSingularValues()
    {
        const int m = 300, n = 40;
        var rng = new Random(42);
        var x = new double[m * n];
        for (int i = 0; i < x.Length; i++) x[i] = 2 * rng.NextDouble() - 1;
        // make it rank-deficient: last 5 columns are combinations of the first ones
        for (int r = 0; r < m; r++)
            for (int c = n - 5; c < n; c++)
                x[r * n + c] = x[r * n + (c - 30)] - 0.5 * x[r * n + (c - 20)];

        var g = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int r = 0; r < m; r++) s += x[r * n + i] * x[r * n + j];
                g[i * n + j] = g[j * n + i] = s;
            }

        var (w, v) = Solve(g, n);
        AssertValidDecomposition(g, n, w, v);
        double gNorm = FrobeniusNorm(g);

        // squared singular values: all >= 0 (up to rounding), 5 numerically zero
        for (int i = 0; i < n; i++) Assert.True(w[i] >= -Tol * gNorm, $"w[{i}] = {w[i]}");
        for (int i = n - 5; i < n; i++) Assert.True(Math.Abs(w[i]) <= Tol * gNorm, $"w[{i}] = {w[i]}");
        Assert.True(w[n - 6] > 1, "rank should be n - 5");

        // X = U S V^T with U = X V^T S^-1: the columns X v_i have norm sqrt(w_i) and are orthogonal,
        // and X is reconstructed as sum_i (X v_i) v_i^T.
        var xv = new double[m * n]; // column i = X v_i
        for (int r = 0; r < m; r++)
            for (int i = 0; i < n; i++)
            {
                double s = 0;
                for (int k = 0; k < n; k++) s += x[r * n + k] * v[i * n + k];
                xv[r * n + i] = s;
            }
        for (int i = 0; i < n; i++)
        {
            double norm2 = 0;
            for (int r = 0; r < m; r++) norm2 += xv[r * n + i] * xv[r * n + i];
            Assert.True(Math.Abs(norm2 - w[i]) <= 1e-11 * gNorm, $"sigma_{i}^2 {norm2} vs {w[i]}");
        }
        double err = 0, xNorm = 0;
        for (int r = 0; r < m; r++)
            for (int c = 0; c < n; c++)
            {
                double s = 0;
                for (int i = 0; i < n; i++) s += xv[r * n + i] * v[i * n + c];
                err += (s - x[r * n + c]) * (s - x[r * n + c]);
                xNorm += x[r * n + c] * x[r * n + c];
            }
        Assert.True(Math.Sqrt(err) <= Tol * Math.Sqrt(xNorm) * 10, $"reconstruction error {Math.Sqrt(err)}");
    }

    // ---- determinism and argument checks ----

    [Fact]
    public void TwoRuns_AreBitIdentical()
    {
        const int n = 120;
        var a = RandomSymmetric(n, 99);
        var (w1, v1) = Solve(a, n);
        var (w2, v2) = Solve(a, n);
        Assert.Equal(w1.Select(BitConverter.DoubleToInt64Bits), w2.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(v1.Select(BitConverter.DoubleToInt64Bits), v2.Select(BitConverter.DoubleToInt64Bits));
    }

    [Fact]
    public void OnlyLowerTriangleIsRead()
    {
        const int n = 15;
        var a = RandomSymmetric(n, 3);
        var garbage = (double[])a.Clone();
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                garbage[i * n + j] = 1e6;
        var (w1, v1) = Solve(a, n);
        var (w2, v2) = Solve(garbage, n);
        Assert.Equal(w1, w2);
        Assert.Equal(v1, v2);
    }

    [Theory]
    [InlineData(3, 8, 3)]
    [InlineData(3, 9, 2)]
    [InlineData(3, 9, 4)]
    [InlineData(0, 1, 0)]
    [InlineData(-1, 1, 0)]
    public void BadLengths_Throw(int n, int matrixLength, int valuesLength)
    {
        var m = new double[matrixLength];
        var w = new double[valuesLength];
        Assert.ThrowsAny<ArgumentException>(() => SymmetricEigen.Decompose(m, n, w));
    }

    [Fact]
    public void NonFinite_Throws()
    {
        double[] m = [1, 0, double.NaN, 1];
        Assert.Throws<ArgumentException>(() => SymmetricEigen.Decompose(m, 2, new double[2]));
    }
}
