namespace Prh.Alignment.Compute;

/// <summary>
/// The two dense products the engine needs, row-major, double precision. Implementations:
/// <see cref="OpenBlas"/> (Debian's libopenblas0-pthread, loaded at run time) and
/// <see cref="ManagedBlas"/> (portable SIMD, used when OpenBLAS is absent and as the tests' cross-check).
/// Callers parallelise over layers themselves, so each call runs on the calling thread only.
/// </summary>
public interface IBlas
{
    /// <summary>"openblas ..." or "managed ...", for reports and benchmarks.</summary>
    string Description { get; }

    /// <summary>C (m x m) = A A^T for A (m x k); fills both triangles.</summary>
    void Syrk(ReadOnlySpan<double> a, int m, int k, Span<double> c);

    /// <summary>C (m x n, row stride <paramref name="ldc"/>) = A B^T for A (m x k), B (n x k).</summary>
    void GemmNT(ReadOnlySpan<double> a, int m, ReadOnlySpan<double> b, int n, int k, Span<double> c, int ldc);
}

public static class BlasExtensions
{
    /// <summary>C (m x n, contiguous) = A B^T for A (m x k), B (n x k).</summary>
    public static void GemmNT(this IBlas blas, ReadOnlySpan<double> a, int m, ReadOnlySpan<double> b, int n, int k, Span<double> c) =>
        blas.GemmNT(a, m, b, n, k, c, n);
}

/// <summary>Chooses the BLAS: OpenBLAS when it loads, unless <c>PRH_BLAS=managed</c> asks otherwise.</summary>
public static class Blas
{
    private static readonly Lazy<IBlas> s_default = new(Select);

    public static IBlas Default => s_default.Value;

    private static IBlas Select()
    {
        string? choice = Environment.GetEnvironmentVariable("PRH_BLAS");
        if (string.Equals(choice, "managed", StringComparison.OrdinalIgnoreCase))
            return ManagedBlas.Instance;
        if (OpenBlas.TryLoad(out var openBlas))
            return openBlas;
        if (string.Equals(choice, "openblas", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("PRH_BLAS=openblas but libopenblas.so.0 could not be loaded (apt-get install libopenblas0-pthread)");
        return ManagedBlas.Instance;
    }

    /// <summary>Values a row-major m x n matrix of row stride ldc spans.</summary>
    internal static long StridedSize(int m, int n, int ldc)
    {
        if (ldc < n) throw new ArgumentOutOfRangeException(nameof(ldc), $"row stride {ldc} is below the row length {n}");
        return m == 0 ? 0 : (long)(m - 1) * ldc + n;
    }

    internal static void CheckSizes(int aLength, int m, int k, int cLength, long cNeeded)
    {
        if (m < 0 || k < 0) throw new ArgumentOutOfRangeException(nameof(m), "dimensions must be non-negative");
        if (aLength < (long)m * k) throw new ArgumentException($"A has {aLength} values, needs {(long)m * k}");
        if (cLength < cNeeded) throw new ArgumentException($"C has {cLength} values, needs {cNeeded}");
    }

    /// <summary>Copies the upper triangle of a square row-major matrix to the lower one.</summary>
    internal static void MirrorUpper(Span<double> c, int m)
    {
        for (int i = 1; i < m; i++)
        {
            Span<double> row = c.Slice(i * m, i);
            for (int j = 0; j < i; j++) row[j] = c[j * m + i];
        }
    }
}
