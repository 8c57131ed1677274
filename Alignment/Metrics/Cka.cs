namespace Prh.Alignment.Metrics;

/// <summary>
/// Centred kernel alignment (Kornblith et al. 2019) as the reference's <c>cka</c>:
/// cka = hsic(K, L) / (sqrt(hsic(K, K) hsic(L, L)) + 1e-6), with the biased HSIC trace(K H L H)
/// (no 1/(N-1)^2 factor) or, for <c>unbiased_cka</c>, the unbiased HSIC of Song et al. (2012).
/// Both come from inner products of centred kernels (<see cref="Sketches.CentredKernels"/>), so all layer
/// pairs of a tile are one matrix product of its blocks' kernel stacks: O(L_x L_y N^2), no N^3 product.
/// A negative self-HSIC gives NaN, as the reference's sqrt does.
/// </summary>
public static class Cka
{
    /// <summary>The reference's epsilon in the CKA denominator; not negligible for unbiased HSIC values.</summary>
    public const double Epsilon = 1e-6;

    public static double FromHsic(double cross, double selfA, double selfB) => cross / (Math.Sqrt(selfA * selfB) + Epsilon);
}
