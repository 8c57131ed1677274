using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Prh.Alignment.Compute;

/// <summary>
/// Dense eigensolver for real symmetric matrices, no native dependencies: Householder reduction to
/// tridiagonal form followed by the implicit QL algorithm with Wilkinson-style shifts, i.e. the
/// EISPACK <c>tred2</c>/<c>tql2</c> pair (Wilkinson &amp; Reinsch, Handbook for Automatic Computation
/// vol. II, 1971; the JAMA formulation of tql2).
/// <para>
/// Layout: the accumulated orthogonal matrix is kept TRANSPOSED (eigenvectors as rows), so both the
/// Householder accumulation and every QL plane rotation stream over contiguous rows; the reduction
/// itself reads and updates only the lower triangle, row by row. The kernels use fixed-width
/// <see cref="Vector256{T}"/> arithmetic with a fixed reduction order and no threading, so the
/// output bits depend only on the input, not on the machine's SIMD width.
/// </para>
/// </summary>
public static class SymmetricEigen
{
    private const int StackallocLimit = 256; // doubles of scratch per array before renting

    /// <summary>
    /// Eigen-decomposes the symmetric n x n matrix <paramref name="matrix"/> (row-major; only its lower
    /// triangle is read, symmetry is trusted). On return <paramref name="eigenvalues"/> (length n) holds
    /// the eigenvalues in DESCENDING order and <paramref name="matrix"/> holds the matching orthonormal
    /// eigenvectors as ROWS (row i = eigenvector of eigenvalues[i]), each signed so that its
    /// largest-magnitude component (first one on ties) is positive.
    /// </summary>
    /// <exception cref="ArgumentException">Wrong span lengths, negative n, or a non-finite entry.</exception>
    /// <exception cref="InvalidOperationException">The QL iteration failed to converge.</exception>
    public static void Decompose(Span<double> matrix, int n, Span<double> eigenvalues)
    {
        if (n < 0) throw new ArgumentOutOfRangeException(nameof(n), n, "n must be non-negative.");
        if (matrix.Length != (long)n * n)
            throw new ArgumentException($"matrix must have length n*n = {(long)n * n}, got {matrix.Length}.", nameof(matrix));
        if (eigenvalues.Length != n)
            throw new ArgumentException($"eigenvalues must have length n = {n}, got {eigenvalues.Length}.", nameof(eigenvalues));
        if (n == 0) return;

        for (int i = 0; i < n; i++)
        {
            // NaN/Inf would silently poison every output (QL's convergence tests are all false on NaN).
            foreach (double v in matrix.Slice(i * n, i + 1))
                if (!double.IsFinite(v))
                    throw new ArgumentException("matrix contains a non-finite entry.", nameof(matrix));
        }

        double[]? rented = null;
        Span<double> scratch = 3 * n <= StackallocLimit
            ? stackalloc double[3 * n]
            : (rented = ArrayPool<double>.Shared.Rent(3 * n)).AsSpan(0, 3 * n);
        try
        {
            Span<double> d = eigenvalues;
            Span<double> e = scratch.Slice(0, n);
            Span<double> h = scratch.Slice(n, n);
            Span<double> p = scratch.Slice(2 * n, n);

            Tridiagonalize(matrix, n, d, e, h, p);
            AccumulateTransposed(matrix, n, h);
            QlImplicit(matrix, n, d, e);
            SortDescending(matrix, n, d);
            NormalizeSigns(matrix, n);
        }
        finally
        {
            if (rented != null) ArrayPool<double>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// tred2 reduction, lower triangle only. For i = n-1..2 the reflector P_i = I - u u^T / h[i] maps row i
    /// (columns 0..i-1) onto e[i] * e_{i-1}; u is left in row i, columns 0..i-1 (scaled, see below), and
    /// the leading i x i block is updated to P_i A P_i. h[i] = 0 marks "no reflector".
    /// On exit d = diagonal, e[i] = T[i, i-1] (e[0] = 0).
    /// </summary>
    private static void Tridiagonalize(Span<double> a, int n, Span<double> d, Span<double> e, Span<double> h, Span<double> p)
    {
        for (int i = n - 1; i >= 1; i--)
        {
            Span<double> u = a.Slice(i * n, i);
            d[i] = a[i * n + i]; // later steps touch only the leading i x i block
            h[i] = 0;

            // Scaling by the 1-norm (EISPACK) keeps h from under/overflowing; P is invariant to it.
            double scale = 0;
            foreach (double v in u) scale += Math.Abs(v);
            if (i == 1 || scale == 0)
            {
                e[i] = u[i - 1]; // already tridiagonal in this row
                continue;
            }

            double inv = 1.0 / scale, hh = 0;
            for (int k = 0; k < i; k++)
            {
                double v = u[k] * inv;
                u[k] = v;
                hh += v * v;
            }
            double f = u[i - 1];
            double g = f >= 0 ? -Math.Sqrt(hh) : Math.Sqrt(hh); // sign avoids cancellation in f - g
            e[i] = scale * g;
            hh -= f * g;       // = u^T u / 2
            u[i - 1] = f - g;
            h[i] = hh;

            // p = A u / hh, A symmetric with only the lower triangle valid: row j contributes its
            // dot with u to p[j] and, as the transposed column, u[j] * row to p[0..j-1].
            Span<double> pi = p.Slice(0, i);
            pi.Clear();
            for (int j = 0; j < i; j++)
            {
                Span<double> row = a.Slice(j * n, j + 1);
                pi[j] += Dot(row, u.Slice(0, j + 1));
                if (j > 0) Axpy(u[j], row.Slice(0, j), pi.Slice(0, j));
            }
            double invH = 1.0 / hh;
            for (int j = 0; j < i; j++) pi[j] *= invH;

            // q = p - K u with K = u^T p / (2 hh); then A -= q u^T + u q^T (lower triangle).
            double kk = Dot(u, pi) / (hh + hh);
            Axpy(-kk, u, pi);
            for (int j = 0; j < i; j++)
                SubRank2(a.Slice(j * n, j + 1), pi[j], u.Slice(0, j + 1), u[j], pi.Slice(0, j + 1));
        }
        d[0] = a[0];
        e[0] = 0;
    }

    /// <summary>
    /// Overwrites <paramref name="a"/> with W = Q^T = P_2 P_3 ... P_{n-1} (A = Q T Q^T). Built left to right:
    /// before step i, W = P_2..P_{i-1} is identity outside its leading i x i block, so W P_i only
    /// changes that block, row by row: W[r, 0..i) -= (W[r] . u / h) u. Row i (holding u) is consumed
    /// and then reset to e_i; column i above it is cleared of the stale upper triangle.
    /// </summary>
    private static void AccumulateTransposed(Span<double> a, int n, ReadOnlySpan<double> h)
    {
        a[0] = 1;
        for (int i = 1; i < n; i++)
        {
            Span<double> u = a.Slice(i * n, i);
            if (h[i] != 0)
            {
                double invH = 1.0 / h[i];
                for (int r = 0; r < i; r++)
                {
                    Span<double> row = a.Slice(r * n, i);
                    Axpy(-Dot(row, u) * invH, u, row);
                }
            }
            u.Clear();
            a[i * n + i] = 1;
            for (int r = 0; r < i; r++) a[r * n + i] = 0;
        }
    }

    /// <summary>
    /// tql2: implicit QL with shifts on the tridiagonal (d, e), applying every rotation to the rows of
    /// <paramref name="w"/> (which holds Q^T, so it ends as the eigenvector rows).
    /// Budget of 30 n QL sweeps in total (as LAPACK dsteqr) before giving up.
    /// </summary>
    private static void QlImplicit(Span<double> w, int n, Span<double> d, Span<double> e)
    {
        for (int i = 1; i < n; i++) e[i - 1] = e[i];
        e[n - 1] = 0;

        const double eps = 2.220446049250313e-16; // 2^-52
        double f = 0, tst1 = 0;
        int budget = 30 * n;
        for (int l = 0; l < n; l++)
        {
            // Find a negligible sub-diagonal element (relative to the matrix scale seen so far).
            tst1 = Math.Max(tst1, Math.Abs(d[l]) + Math.Abs(e[l]));
            int m = l;
            while (m < n - 1 && !(Math.Abs(e[m]) <= eps * tst1)) m++;

            if (m > l)
            {
                do
                {
                    if (--budget < 0)
                        throw new InvalidOperationException($"Symmetric eigensolver: QL iteration did not converge (n = {n}, eigenvalue {l}).");

                    // Shift from the leading 2x2 block.
                    double g = d[l];
                    double pp = (d[l + 1] - g) / (2.0 * e[l]);
                    double r = Hypot(pp, 1.0);
                    if (pp < 0) r = -r;
                    d[l] = e[l] / (pp + r);
                    d[l + 1] = e[l] * (pp + r);
                    double dl1 = d[l + 1];
                    double hs = g - d[l];
                    for (int i = l + 2; i < n; i++) d[i] -= hs;
                    f += hs;

                    // Implicit QL sweep from m-1 down to l.
                    pp = d[m];
                    double c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
                    double el1 = e[l + 1];
                    for (int i = m - 1; i >= l; i--)
                    {
                        c3 = c2;
                        c2 = c;
                        s2 = s;
                        g = c * e[i];
                        hs = c * pp;
                        r = Hypot(pp, e[i]);
                        e[i + 1] = s * r;
                        s = e[i] / r;
                        c = pp / r;
                        pp = c * d[i] - s * g;
                        d[i + 1] = hs + s * (c * g + s * d[i]);
                        Rotate(w.Slice(i * n, n), w.Slice((i + 1) * n, n), c, s);
                    }
                    pp = -s * s2 * c3 * el1 * e[l] / dl1;
                    e[l] = s * pp;
                    d[l] = c * pp;
                } while (Math.Abs(e[l]) > eps * tst1);
            }
            d[l] += f;
            e[l] = 0;
        }
    }

    /// <summary>Selection sort (O(n) row swaps); strict comparison keeps equal eigenvalues in QL order.</summary>
    private static void SortDescending(Span<double> w, int n, Span<double> d)
    {
        for (int i = 0; i < n - 1; i++)
        {
            int best = i;
            for (int j = i + 1; j < n; j++)
                if (d[j] > d[best]) best = j;
            if (best == i) continue;
            (d[i], d[best]) = (d[best], d[i]);
            Span<double> x = w.Slice(i * n, n), y = w.Slice(best * n, n);
            for (int k = 0; k < n; k++) (x[k], y[k]) = (y[k], x[k]);
        }
    }

    /// <summary>Makes each row's largest-magnitude component (first on ties) positive, for reproducible signs.</summary>
    private static void NormalizeSigns(Span<double> w, int n)
    {
        for (int i = 0; i < n; i++)
        {
            Span<double> row = w.Slice(i * n, n);
            int arg = 0;
            double best = Math.Abs(row[0]);
            for (int k = 1; k < n; k++)
            {
                double v = Math.Abs(row[k]);
                if (v > best) { best = v; arg = k; }
            }
            if (row[arg] < 0)
                for (int k = 0; k < n; k++) row[k] = -row[k];
        }
    }

    /// <summary>sqrt(a^2 + b^2) without destructive under/overflow; written out (not double.Hypot) so every runtime gives the same bits.</summary>
    private static double Hypot(double a, double b)
    {
        a = Math.Abs(a);
        b = Math.Abs(b);
        if (a < b) (a, b) = (b, a);
        if (a == 0) return 0;
        double t = b / a;
        return a * Math.Sqrt(1.0 + t * t);
    }

    // ---- kernels: fixed 4-lane layout, fixed reduction order, no FMA contraction (RyuJIT never fuses) ----

    /// <summary>x . y with two 4-lane accumulators combined in a fixed order, then a sequential tail.</summary>
    private static double Dot(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        int len = x.Length;
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        int k = 0;
        double sum = 0;
        if (len >= 8)
        {
            Vector256<double> acc0 = Vector256<double>.Zero, acc1 = Vector256<double>.Zero;
            for (; k <= len - 8; k += 8)
            {
                acc0 += Vector256.LoadUnsafe(ref xr, (nuint)k) * Vector256.LoadUnsafe(ref yr, (nuint)k);
                acc1 += Vector256.LoadUnsafe(ref xr, (nuint)(k + 4)) * Vector256.LoadUnsafe(ref yr, (nuint)(k + 4));
            }
            Vector256<double> acc = acc0 + acc1;
            sum = (acc.GetElement(0) + acc.GetElement(1)) + (acc.GetElement(2) + acc.GetElement(3));
        }
        for (; k < len; k++) sum += Unsafe.Add(ref xr, k) * Unsafe.Add(ref yr, k);
        return sum;
    }

    /// <summary>y += alpha x (element-wise, so any width gives the same bits).</summary>
    private static void Axpy(double alpha, ReadOnlySpan<double> x, Span<double> y)
    {
        int len = x.Length;
        if (y.Length < len) throw new ArgumentException("length mismatch");
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        int k = 0;
        var va = Vector256.Create(alpha);
        for (; k <= len - 4; k += 4)
            (Vector256.LoadUnsafe(ref yr, (nuint)k) + va * Vector256.LoadUnsafe(ref xr, (nuint)k)).StoreUnsafe(ref yr, (nuint)k);
        for (; k < len; k++) Unsafe.Add(ref yr, k) += alpha * Unsafe.Add(ref xr, k);
    }

    /// <summary>row -= a u + b q.</summary>
    private static void SubRank2(Span<double> row, double a, ReadOnlySpan<double> u, double b, ReadOnlySpan<double> q)
    {
        int len = row.Length;
        if (u.Length < len || q.Length < len) throw new ArgumentException("length mismatch");
        ref double rr = ref MemoryMarshal.GetReference(row);
        ref double ur = ref MemoryMarshal.GetReference(u);
        ref double qr = ref MemoryMarshal.GetReference(q);
        var va = Vector256.Create(a);
        var vb = Vector256.Create(b);
        int k = 0;
        for (; k <= len - 4; k += 4)
        {
            var v = Vector256.LoadUnsafe(ref rr, (nuint)k)
                  - (va * Vector256.LoadUnsafe(ref ur, (nuint)k) + vb * Vector256.LoadUnsafe(ref qr, (nuint)k));
            v.StoreUnsafe(ref rr, (nuint)k);
        }
        for (; k < len; k++)
            Unsafe.Add(ref rr, k) -= a * Unsafe.Add(ref ur, k) + b * Unsafe.Add(ref qr, k);
    }

    /// <summary>Plane rotation of two rows: x' = c x - s y, y' = s x + c y.</summary>
    private static void Rotate(Span<double> x, Span<double> y, double c, double s)
    {
        int len = x.Length;
        if (y.Length != len) throw new ArgumentException("length mismatch");
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double yr = ref MemoryMarshal.GetReference(y);
        var vc = Vector256.Create(c);
        var vs = Vector256.Create(s);
        int k = 0;
        for (; k <= len - 4; k += 4)
        {
            var vx = Vector256.LoadUnsafe(ref xr, (nuint)k);
            var vy = Vector256.LoadUnsafe(ref yr, (nuint)k);
            (vc * vx - vs * vy).StoreUnsafe(ref xr, (nuint)k);
            (vs * vx + vc * vy).StoreUnsafe(ref yr, (nuint)k);
        }
        for (; k < len; k++)
        {
            double a = Unsafe.Add(ref xr, k), b = Unsafe.Add(ref yr, k);
            Unsafe.Add(ref xr, k) = c * a - s * b;
            Unsafe.Add(ref yr, k) = s * a + c * b;
        }
    }
}
