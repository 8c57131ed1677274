namespace Prh.Alignment.Sketches;

/// <summary>
/// The kernel a kernel metric compares: the reference's <c>kernel_metric='ip'</c> (K = X X^T) or
/// <c>'rbf'</c> (K_ij = exp(-||x_i - x_j||^2 / (2 sigma^2))). Both come from the layer's Gram matrix:
/// ||x_i - x_j||^2 = G_ii + G_jj - 2 G_ij.
/// </summary>
public readonly record struct KernelFunction(bool IsRbf, double Sigma)
{
    public static KernelFunction InnerProduct => new(false, 0);

    public static KernelFunction Rbf(double sigma) => new(true, sigma);

    public override string ToString() => IsRbf ? $"rbf(sigma={Sigma})" : "ip";
}
