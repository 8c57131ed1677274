using System.Runtime.InteropServices;

namespace Prh.Alignment.Compute;

/// <summary>
/// cblas_dsyrk / cblas_dgemm from OpenBLAS, bound at run time so the engine builds and runs without it.
/// OpenBLAS is told to use one thread: the engine runs layers in parallel on every core, and a
/// threaded BLAS inside each of those calls would oversubscribe the machine.
/// </summary>
public sealed unsafe class OpenBlas : IBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112, Upper = 121;
    private static readonly string[] s_candidates = ["libopenblas.so.0", "libopenblas.so", "libopenblasp-r0.3.21.so"];

    private readonly delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void> _dsyrk;
    private readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;

    private OpenBlas(nint handle, string config)
    {
        _dsyrk = (delegate* unmanaged<int, int, int, int, int, double, double*, int, double, double*, int, void>)NativeLibrary.GetExport(handle, "cblas_dsyrk");
        _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)NativeLibrary.GetExport(handle, "cblas_dgemm");
        Description = $"openblas ({config}, 1 thread per call)";
    }

    public string Description { get; }

    public static bool TryLoad(out IBlas blas)
    {
        blas = null!;
        foreach (string name in s_candidates)
        {
            if (!NativeLibrary.TryLoad(name, out nint handle)) continue;
            if (!NativeLibrary.TryGetExport(handle, "cblas_dsyrk", out _) || !NativeLibrary.TryGetExport(handle, "cblas_dgemm", out _))
                continue;
            string config = "unknown config";
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint setThreads))
                ((delegate* unmanaged<int, void>)setThreads)(1);
            if (NativeLibrary.TryGetExport(handle, "openblas_get_config", out nint getConfig))
                config = Marshal.PtrToStringAnsi(((delegate* unmanaged<nint>)getConfig)())?.Trim() ?? config;
            blas = new OpenBlas(handle, config);
            return true;
        }
        return false;
    }

    public void Syrk(ReadOnlySpan<double> a, int m, int k, int lda, Span<double> c, int ldc)
    {
        Blas.Check("A", a.Length, m, k, lda);
        Blas.Check("C", c.Length, m, m, ldc);
        if (m == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m; i++) c.Slice(i * ldc, m).Clear();
            return;
        }
        fixed (double* pa = a)
        fixed (double* pc = c)
            _dsyrk(RowMajor, Upper, NoTrans, m, k, 1.0, pa, lda, 0.0, pc, ldc);
        Blas.MirrorUpper(c, m, ldc);
    }

    public void GemmNT(ReadOnlySpan<double> a, int m, int lda, ReadOnlySpan<double> b, int n, int ldb, int k, Span<double> c, int ldc)
    {
        Blas.Check("A", a.Length, m, k, lda);
        Blas.Check("B", b.Length, n, k, ldb);
        Blas.Check("C", c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            for (int i = 0; i < m; i++) c.Slice(i * ldc, n).Clear();
            return;
        }
        fixed (double* pa = a)
        fixed (double* pb = b)
        fixed (double* pc = c)
            _dgemm(RowMajor, NoTrans, Trans, m, n, k, 1.0, pa, lda, pb, ldb, 0.0, pc, ldc);
    }
}
