using Prh.Alignment.Compute;

namespace Prh.Alignment.Tests.Compute;

/// <summary>
/// OpenBLAS and the managed SIMD kernels against each other and against plain dot products, on
/// shapes that hit every tile edge. The test command installs libopenblas0-pthread, so OpenBLAS
/// missing is a failure here, not a skip.
/// </summary>
public sealed class BlasTests
{
    public static IEnumerable<object[]> Shapes() =>
        [[1, 1, 1], [1, 7, 3], [3, 5, 2], [4, 2, 9], [5, 5, 5], [17, 13, 33], [64, 70, 31], [129, 65, 257], [300, 1, 600]];

    private static double[] Random(int count, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => r.NextDouble() * 2 - 1).ToArray();
    }

    private static IBlas OpenBlasOrFail()
    {
        Assert.True(OpenBlas.TryLoad(out var blas), "libopenblas.so.0 did not load: apt-get install libopenblas0-pthread");
        return blas;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Syrk_paths_agree_with_plain_dot_products(int m, int n, int k)
    {
        _ = n;
        var a = Random(m * k, m + 31 * k);
        var plain = new double[m * m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) plain[i * m + j] = ManagedBlas.Dot(a.AsSpan(i * k, k), a.AsSpan(j * k, k));
        foreach (var blas in new[] { OpenBlasOrFail(), ManagedBlas.Instance })
        {
            var c = new double[m * m];
            Array.Fill(c, double.NaN); // every entry must be written
            blas.Syrk(a, m, k, c);
            for (int i = 0; i < m * m; i++)
                Assert.True(Math.Abs(plain[i] - c[i]) <= 1e-12 * k, $"{blas.Description} syrk {m}x{k} entry {i}: {plain[i]} vs {c[i]}");
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++) Assert.Equal(c[i * m + j], c[j * m + i]);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Gemm_paths_agree_with_plain_dot_products(int m, int n, int k)
    {
        var a = Random(m * k, 3 * m + k);
        var b = Random(n * k, 5 * n + k);
        foreach (var blas in new[] { OpenBlasOrFail(), ManagedBlas.Instance })
        {
            var c = new double[m * n];
            Array.Fill(c, double.NaN);
            blas.GemmNT(a, m, b, n, k, c);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double expected = ManagedBlas.Dot(a.AsSpan(i * k, k), b.AsSpan(j * k, k));
                    Assert.True(Math.Abs(expected - c[i * n + j]) <= 1e-12 * k, $"{blas.Description} gemm ({i}, {j}): {expected} vs {c[i * n + j]}");
                }
        }
    }

    [Fact]
    public void Wrong_sizes_are_refused()
    {
        foreach (var blas in new[] { OpenBlasOrFail(), ManagedBlas.Instance })
        {
            Assert.Throws<ArgumentException>(() => blas.Syrk(new double[5], 2, 3, new double[4]));
            Assert.Throws<ArgumentException>(() => blas.GemmNT(new double[6], 2, new double[6], 2, 3, new double[3]));
        }
    }
}
