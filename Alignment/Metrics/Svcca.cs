using Prh.Alignment.Compute;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Metrics;

/// <summary>
/// SVCCA (Raghu et al. 2017): the mean canonical correlation between the top cca_dim singular
/// subspaces of the two standardised layers. For orthonormal centred bases Q_A, Q_B the canonical
/// correlations are the singular values of Q_A^T Q_B (Björck and Golub 1973), so a pair costs
/// O(N d^2) plus a d x d eigen-decomposition. This is the fixtures' <c>exact_closed_form</c>: exact
/// and deterministic, where the reference's randomised SVD and NIPALS CCA are neither.
/// </summary>
public static class Svcca
{
    public static double Score(SvccaBasis a, SvccaBasis b, IBlas blas)
    {
        int d = a.Dimension, n = a.SampleCount;
        var c = new double[d * d];
        blas.GemmNT(a.Vectors, d, b.Vectors, d, n, c);
        // Singular values of C are the square roots of the eigenvalues of C C^T.
        var cct = new double[d * d];
        blas.Syrk(c, d, d, cct);
        var eigenvalues = new double[d];
        SymmetricEigen.Decompose(cct, d, eigenvalues);
        double sum = 0;
        foreach (double lambda in eigenvalues) sum += Math.Sqrt(Math.Max(lambda, 0));
        return sum / d;
    }
}
