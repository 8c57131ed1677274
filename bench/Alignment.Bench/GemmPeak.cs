using System.Diagnostics;
using Prh.Alignment.Compute;

namespace Prh.Bench;

/// <summary>
/// This machine's float64 matrix-product peak through the engine's BLAS, measured as the tiles use it:
/// one single-threaded GEMM per core at once, square-ish operands that fit no cache (1024 x 1024 against
/// 1024 x 8192), best of three. The floor every tile figure is compared with, in the same run.
/// </summary>
public static class GemmPeak
{
    public static double Measure(IBlas blas)
    {
        const int m = 1024, n = 1024, k = 8192;
        int cores = Environment.ProcessorCount;
        var random = new Random(1);
        var a = Enumerable.Range(0, cores).Select(_ => Enumerable.Range(0, m * k).Select(_ => random.NextDouble()).ToArray()).ToArray();
        var b = Enumerable.Range(0, n * k).Select(_ => random.NextDouble()).ToArray();
        var c = Enumerable.Range(0, cores).Select(_ => new double[m * n]).ToArray();
        double best = double.MaxValue;
        for (int r = 0; r < 3; r++)
        {
            var sw = Stopwatch.StartNew();
            Parallel.For(0, cores, new ParallelOptions { MaxDegreeOfParallelism = cores }, t => blas.GemmNT(a[t], m, b, n, k, c[t]));
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * m * n * k * cores / best / 1e9;
    }
}
