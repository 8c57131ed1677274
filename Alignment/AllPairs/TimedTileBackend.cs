using System.Diagnostics;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// A backend that adds up, per kind of product, the seconds spent in another and the arithmetic done:
/// what benchmarks and silo metrics report as tile products, neighbour counts and pair metrics.
/// Kernel-product flops count 2 P per layer pair computed (P = N (N + 1) / 2), half the square for a
/// block against itself (never for a permuted second block). Thread-safe.
/// </summary>
public sealed class TimedTileBackend(ITileBackend inner) : ITileBackend
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, (double Seconds, double Flops, long LayerPairs)> _totals = [];

    public ITileBackend Inner { get; } = inner;
    public string Description => Inner.Description;
    public long MemoryBudget => Inner.MemoryBudget;

    public const string KernelProductsKind = "kernel products", NeighbourCountsKind = "neighbour counts", PairMetricsKind = "pair metrics";

    /// <summary>Seconds, flops and layer pairs so far, per kind.</summary>
    public IReadOnlyDictionary<string, (double Seconds, double Flops, long LayerPairs)> Totals
    {
        get { lock (_lock) return new Dictionary<string, (double, double, long)>(_totals); }
    }

    public ITileBlock Upload(SketchBlock block) => Inner.Upload(block);

    public KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region)
    {
        int n = first.Block.SampleCount, t = first.Block.LayerCount;
        long pairs = region.SameBlock ? (long)t * (t + 1) / 2 : region.LayerPairs;
        double flops = 2.0 * pairs * (CentredKernels.PackedLength(n) + (unbiasedTerms ? 2 * n : 0));
        return Timed(KernelProductsKind, flops, region.LayerPairs, () => Inner.KernelProducts(first, second, kernel, unbiasedTerms, region));
    }

    public int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region) =>
        Timed(NeighbourCountsKind, 0, region.LayerPairs, () => Inner.NeighbourOverlaps(first, second, columns, region));

    public double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region) =>
        Timed(PairMetricsKind, 0, region.LayerPairs, () => Inner.LayerPairScores(first, second, metric, region));

    public KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region,
        SamplePermutation secondPermutation)
    {
        int n = first.Block.SampleCount;
        double flops = 2.0 * region.LayerPairs * (CentredKernels.PackedLength(n) + (unbiasedTerms ? 2 * n : 0));
        return Timed(KernelProductsKind, flops, region.LayerPairs, () => Inner.KernelProducts(first, second, kernel, unbiasedTerms, region, secondPermutation));
    }

    public int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region, SamplePermutation secondPermutation) =>
        Timed(NeighbourCountsKind, 0, region.LayerPairs, () => Inner.NeighbourOverlaps(first, second, columns, region, secondPermutation));

    public double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region, SamplePermutation secondPermutation) =>
        Timed(PairMetricsKind, 0, region.LayerPairs, () => Inner.LayerPairScores(first, second, metric, region, secondPermutation));

    private T Timed<T>(string kind, double flops, long layerPairs, Func<T> run)
    {
        var watch = Stopwatch.StartNew();
        var result = run();
        double seconds = watch.Elapsed.TotalSeconds;
        lock (_lock)
        {
            var (s, f, p) = _totals.GetValueOrDefault(kind);
            _totals[kind] = (s + seconds, f + flops, p + layerPairs);
        }
        return result;
    }
}
