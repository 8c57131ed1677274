using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// Where a tile's products run. <see cref="TileScorer"/> turns them into scores; a backend only has to
/// produce them. Shaped for an accelerator too: a block is uploaded once (<see cref="Upload"/>) and
/// every tile that reads it uses the uploaded copy, and <see cref="MemoryBudget"/> is the block data the
/// backend holds at once, which <see cref="TilePlanner"/> sizes tiles to. Implementations:
/// <see cref="CpuTileBackend"/> (the engine's BLAS, OpenBLAS or the managed fallback).
/// Every product array is row-major, first-block layer by second-block layer, and only the region's
/// entries are written: doubles elsewhere are NaN, counts -1.
/// </summary>
public interface ITileBackend
{
    /// <summary>"cpu (openblas ...)" and the like, for reports and spans.</summary>
    string Description { get; }

    /// <summary>Bytes of block data held at once: a tile's two blocks must fit.</summary>
    long MemoryBudget { get; }

    /// <summary>Makes a block's stacked sketches available to the products (a device copy on an accelerator).</summary>
    ITileBlock Upload(SketchBlock block);

    /// <summary>
    /// Effectively computes Inner[a, b] = &lt;Kc_a, Kc_b&gt; (the packed rows' dot product) and, with
    /// <paramref name="unbiasedTerms"/>, AlphaDots[a, b] = α_a·α_b and ExcessDots[a, b] = e_a·e_b, for the
    /// region's layer pairs.
    /// </summary>
    KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region);

    /// <summary>Effectively computes counts[a, b] = Σ_i |NN_a(i) ∩ NN_b(i)| over the first <paramref name="columns"/> columns.</summary>
    int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region);

    /// <summary>
    /// scores[a, b] = metric(first layer a, second layer b) for the metrics scored pair by pair from the
    /// sketches: cknna, cycle_knn, lcs_knn, edit_distance_knn and svcca.
    /// </summary>
    double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region);

    /// <summary>
    /// <see cref="KernelProducts(ITileBlock, ITileBlock, KernelFunction, bool, TileRegion)"/> with the second block's
    /// samples relabelled by <paramref name="secondPermutation"/> (one permutation-null draw): its kernels are
    /// P Kc Pᵀ and its α and e are P α and P e, relabelled from the block's own, never rebuilt.
    /// The region's <see cref="TileRegion.SameBlock"/> is ignored: a permuted block is not its own transpose.
    /// </summary>
    KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region,
        SamplePermutation secondPermutation);

    /// <summary>The overlap counts with the second block's neighbour lists relabelled by <paramref name="secondPermutation"/> (exact integers).</summary>
    int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region, SamplePermutation secondPermutation);

    /// <summary>The pair-by-pair metrics with the second block's lists (and SVCCA bases) relabelled by <paramref name="secondPermutation"/>.</summary>
    double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region, SamplePermutation secondPermutation);
}

/// <summary>A block as a backend holds it.</summary>
public interface ITileBlock
{
    SketchBlock Block { get; }
}

/// <summary>The kernel products of a tile (see <see cref="ITileBackend.KernelProducts(ITileBlock, ITileBlock, KernelFunction, bool, TileRegion)"/>).</summary>
public sealed record KernelProducts(double[] Inner, double[]? AlphaDots, double[]? ExcessDots);

/// <summary>
/// The layer pairs a tile computes, as rectangles of block layers. <see cref="SameBlock"/>: both sides are
/// one block and the rectangles span its square or one of its triangles, so one symmetric product over
/// all the block's layer pairs (half the work of a full product) serves them.
/// </summary>
public sealed record TileRegion(IReadOnlyList<LayerRectangle> Rectangles, bool SameBlock)
{
    public long LayerPairs => Rectangles.Sum(r => r.Pairs);
}
