using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Prh.Alignment.Compute;

/// <summary>
/// Portable SIMD products for machines without OpenBLAS. Every output entry is a dot product of two
/// rows; a 4 x 2 register tile shares each loaded vector between several dot products, which is what
/// makes this a few times faster than one dot product at a time. <see cref="Dot"/> is the plain
/// path the tiles are checked against.
/// </summary>
public sealed class ManagedBlas : IBlas
{
    public static ManagedBlas Instance { get; } = new();

    public string Description => $"managed SIMD (Vector<double> x {Vector<double>.Count})";

    public void Syrk(ReadOnlySpan<double> a, int m, int k, int lda, Span<double> c, int ldc)
    {
        Blas.Check("A", a.Length, m, k, lda);
        Blas.Check("C", c.Length, m, m, ldc);
        Products(a, m, lda, a, m, lda, k, c, ldc, upperOnly: true);
        Blas.MirrorUpper(c, m, ldc);
    }

    public void GemmNT(ReadOnlySpan<double> a, int m, int lda, ReadOnlySpan<double> b, int n, int ldb, int k, Span<double> c, int ldc)
    {
        Blas.Check("A", a.Length, m, k, lda);
        Blas.Check("B", b.Length, n, k, ldb);
        Blas.Check("C", c.Length, m, n, ldc);
        Products(a, m, lda, b, n, ldb, k, c, ldc, upperOnly: false);
    }

    /// <summary>The plain dot product (scalar loop), the reference for the tiled kernel.</summary>
    public static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    private static void Products(ReadOnlySpan<double> a, int m, int lda, ReadOnlySpan<double> b, int n, int ldb, int k, Span<double> c, int ldc, bool upperOnly)
    {
        // Column blocks keep the B rows of one block in cache while all A rows stream past them.
        const int ColumnBlock = 64;
        for (int j0 = 0; j0 < n; j0 += ColumnBlock)
        {
            int j1 = Math.Min(n, j0 + ColumnBlock);
            int iEnd = upperOnly ? Math.Min(m, j1) : m;
            int i = 0;
            for (; i + 4 <= iEnd; i += 4)
            {
                int jStart = upperOnly ? Math.Max(j0, i) : j0;
                int j = jStart;
                for (; j + 2 <= j1; j += 2) Tile4x2(a, i, lda, b, j, ldb, k, c, ldc);
                for (; j < j1; j++)
                    for (int r = 0; r < 4; r++) c[(i + r) * ldc + j] = DotSimd(a.Slice((i + r) * lda, k), b.Slice(j * ldb, k));
            }
            for (; i < iEnd; i++)
            {
                int jStart = upperOnly ? Math.Max(j0, i) : j0;
                for (int j = jStart; j < j1; j++) c[i * ldc + j] = DotSimd(a.Slice(i * lda, k), b.Slice(j * ldb, k));
            }
        }
    }

    private static double DotSimd(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        var vx = MemoryMarshal.Cast<double, Vector<double>>(x);
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        Vector<double> acc = Vector<double>.Zero;
        for (int v = 0; v < vx.Length; v++) acc += vx[v] * vy[v];
        double s = Vector.Sum(acc);
        for (int i = vx.Length * Vector<double>.Count; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x2(ReadOnlySpan<double> a, int i, int lda, ReadOnlySpan<double> b, int j, int ldb, int k, Span<double> c, int ldc)
    {
        var a0 = MemoryMarshal.Cast<double, Vector<double>>(a.Slice(i * lda, k));
        var a1 = MemoryMarshal.Cast<double, Vector<double>>(a.Slice((i + 1) * lda, k));
        var a2 = MemoryMarshal.Cast<double, Vector<double>>(a.Slice((i + 2) * lda, k));
        var a3 = MemoryMarshal.Cast<double, Vector<double>>(a.Slice((i + 3) * lda, k));
        var b0 = MemoryMarshal.Cast<double, Vector<double>>(b.Slice(j * ldb, k));
        var b1 = MemoryMarshal.Cast<double, Vector<double>>(b.Slice((j + 1) * ldb, k));
        Vector<double> s00 = default, s01 = default, s10 = default, s11 = default,
                       s20 = default, s21 = default, s30 = default, s31 = default;
        for (int v = 0; v < b0.Length; v++)
        {
            Vector<double> x0 = b0[v], x1 = b1[v];
            Vector<double> y = a0[v]; s00 += y * x0; s01 += y * x1;
            y = a1[v]; s10 += y * x0; s11 += y * x1;
            y = a2[v]; s20 += y * x0; s21 += y * x1;
            y = a3[v]; s30 += y * x0; s31 += y * x1;
        }
        Span<double> sums = [Vector.Sum(s00), Vector.Sum(s01), Vector.Sum(s10), Vector.Sum(s11),
                             Vector.Sum(s20), Vector.Sum(s21), Vector.Sum(s30), Vector.Sum(s31)];
        for (int t = b0.Length * Vector<double>.Count; t < k; t++)
        {
            double x0 = b[j * ldb + t], x1 = b[(j + 1) * ldb + t];
            for (int r = 0; r < 4; r++)
            {
                double y = a[(i + r) * lda + t];
                sums[2 * r] += y * x0;
                sums[2 * r + 1] += y * x1;
            }
        }
        for (int r = 0; r < 4; r++)
        {
            c[(i + r) * ldc + j] = sums[2 * r];
            c[(i + r) * ldc + j + 1] = sums[2 * r + 1];
        }
    }
}
