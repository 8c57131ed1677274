using Prh.Alignment.Compute;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// Centred kernel alignment (Kornblith et al. 2019) as the reference's <c>cka</c>:
/// cka = hsic(K, L) / (sqrt(hsic(K, K) hsic(L, L)) + 1e-6), with the biased HSIC trace(K H L H)
/// (no 1/(N-1)^2 factor) or, for <c>unbiased_cka</c>, the unbiased HSIC of Song et al. (2012).
/// Both are inner products of centred kernels (ALGORITHMS.md), so all L_x x L_y layer pairs of two
/// models are one matrix product of their kernel stacks: O(L_x L_y N^2), no N^3 product.
/// A negative self-HSIC gives NaN, as the reference's sqrt does.
/// </summary>
public static class Cka
{
    /// <summary>The reference's epsilon in the CKA denominator; not negligible for unbiased HSIC values.</summary>
    public const double Epsilon = 1e-6;

    public static double FromHsic(double cross, double selfA, double selfB) => cross / (Math.Sqrt(selfA * selfB) + Epsilon);

    /// <summary>scores[i, j] = cka(layer i of x, layer j of y).</summary>
    public static double[,] ScoreAll(CentredKernels x, CentredKernels y, IBlas blas)
    {
        int lx = x.LayerCount, ly = y.LayerCount, size = x.PackedSize;
        var inner = new double[lx * ly];
        // One GEMM per block of x layers, the blocks spread over the cores (the BLAS is single-threaded).
        int blocks = Math.Min(lx, Environment.ProcessorCount);
        Parallel.For(0, blocks, ModelSketch.Parallelism, block =>
        {
            int start = block * lx / blocks, end = (block + 1) * lx / blocks;
            if (end == start) return;
            blas.GemmNT(x.Stack.AsSpan(start * size, (end - start) * size), end - start, y.Stack, ly, size,
                inner.AsSpan(start * ly, (end - start) * ly));
        });
        var scores = new double[lx, ly];
        for (int i = 0; i < lx; i++)
            for (int j = 0; j < ly; j++)
                scores[i, j] = FromHsic(x.HsicFromInnerProduct(inner[i * ly + j]), x.Hsic[i], y.Hsic[j]);
        return scores;
    }
}
