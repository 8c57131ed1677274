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

    /// <summary>
    /// C (m x m, row stride <paramref name="ldc"/>) = A A^T for A (m x k, row stride <paramref name="lda"/>);
    /// fills both triangles. Strides let a caller take a slice of a matrix's columns (part of every row).
    /// </summary>
    void Syrk(ReadOnlySpan<double> a, int m, int k, int lda, Span<double> c, int ldc);

    /// <summary>C (m x n, row stride <paramref name="ldc"/>) = A B^T for A (m x k, row stride <paramref name="lda"/>), B (n x k, row stride <paramref name="ldb"/>).</summary>
    void GemmNT(ReadOnlySpan<double> a, int m, int lda, ReadOnlySpan<double> b, int n, int ldb, int k, Span<double> c, int ldc);
}

public static class BlasExtensions
{
    /// <summary>C (m x m, contiguous) = A A^T for A (m x k, contiguous).</summary>
    public static void Syrk(this IBlas blas, ReadOnlySpan<double> a, int m, int k, Span<double> c) => blas.Syrk(a, m, k, k, c, m);

    /// <summary>C (m x n, contiguous) = A B^T for A (m x k), B (n x k), both contiguous.</summary>
    public static void GemmNT(this IBlas blas, ReadOnlySpan<double> a, int m, ReadOnlySpan<double> b, int n, int k, Span<double> c) =>
        blas.GemmNT(a, m, k, b, n, k, k, c, n);

    /// <summary>C (m x n, row stride <paramref name="ldc"/>) = A B^T for contiguous A (m x k), B (n x k).</summary>
    public static void GemmNT(this IBlas blas, ReadOnlySpan<double> a, int m, ReadOnlySpan<double> b, int n, int k, Span<double> c, int ldc) =>
        blas.GemmNT(a, m, k, b, n, k, k, c, ldc);
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

    /// <summary>Values a row-major rows x columns matrix of row stride <paramref name="stride"/> spans.</summary>
    internal static long StridedSize(int rows, int columns, int stride)
    {
        if (rows < 0 || columns < 0) throw new ArgumentOutOfRangeException(nameof(rows), "dimensions must be non-negative");
        if (stride < columns) throw new ArgumentOutOfRangeException(nameof(stride), $"row stride {stride} is below the row length {columns}");
        return rows == 0 ? 0 : (long)(rows - 1) * stride + columns;
    }

    internal static void Check(string name, int length, int rows, int columns, int stride)
    {
        long needed = StridedSize(rows, columns, stride);
        if (length < needed) throw new ArgumentException($"{name} has {length} values, needs {needed} ({rows} x {columns}, row stride {stride})");
    }

    /// <summary>Copies the upper triangle of a square row-major matrix (row stride <paramref name="ldc"/>) to the lower one.</summary>
    internal static void MirrorUpper(Span<double> c, int m, int ldc)
    {
        for (int i = 1; i < m; i++)
        {
            Span<double> row = c.Slice(i * ldc, i);
            for (int j = 0; j < i; j++) row[j] = c[j * ldc + i];
        }
    }
}
