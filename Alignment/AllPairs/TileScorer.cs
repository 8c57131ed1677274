using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>One metric of a tile and the model pairs it scores there.</summary>
public sealed record TileMetric(MetricSpec Metric, PairMask Pairs);

/// <summary>compute_score(first model, second model) for one pair of a tile: block model indices and the whole layer matrix.</summary>
public sealed record TilePairScore(int First, int Second, LayerScores Scores);

/// <summary>
/// Scores a tile, a block of first-argument models against a block of second-argument models, for
/// several metrics in one pass: every model pair of each metric's mask gets compute_score(first,
/// second), its whole layer x layer matrix and its best pair by the reference's rule. The products are
/// the backend's, one call per kind of product for the whole tile: kernel products once per kernel
/// function (cka and unbiased_cka share them), overlap counts once per neighbour count, the pair-by-pair
/// metrics batched. Sketch pieces are built once per model for all the tile's metrics.
/// </summary>
public static partial class TileScorer
{
    public static IReadOnlyList<IReadOnlyList<TilePairScore>> Score(ITileBackend backend, SketchBlock first, SketchBlock second, IReadOnlyList<TileMetric> metrics)
    {
        var (x1, y1) = Prepare(backend, first, second, metrics);
        var layerValues = LayerValues(backend, x1, y1, metrics, null);
        var results = new IReadOnlyList<TilePairScore>[metrics.Count];
        for (int i = 0; i < metrics.Count; i++)
        {
            var values = layerValues[i];
            var scale = Scale(metrics[i].Metric, first.SampleCount);
            results[i] = metrics[i].Pairs.Pairs().Select(pair =>
                new TilePairScore(pair.First, pair.Second, LayerScores.FromMatrix(PairMatrix(first, second, values, pair, scale)))).ToList();
        }
        return results;
    }

    /// <summary>Checks the masks and the metrics against the models, builds the sketches the metrics read, and uploads both blocks.</summary>
    private static (ITileBlock First, ITileBlock Second) Prepare(ITileBackend backend, SketchBlock first, SketchBlock second, IReadOnlyList<TileMetric> metrics)
    {
        foreach (var metric in metrics)
        {
            if (metric.Pairs.FirstCount != first.Models.Count || metric.Pairs.SecondCount != second.Models.Count)
                throw new ArgumentException($"{metric.Metric}: a {metric.Pairs.FirstCount} x {metric.Pairs.SecondCount} mask for a {first.Models.Count} x " +
                    $"{second.Models.Count} tile");
            foreach (var (x, y) in metric.Pairs.Pairs()) metric.Metric.Validate(first.Models[x], second.Models[y]);
        }
        var request = SketchRequest.For(metrics.Select(m => m.Metric), first.SampleCount);
        first.Ensure(request);
        if (!ReferenceEquals(first, second)) second.Ensure(request);
        var x1 = backend.Upload(first);
        return (x1, ReferenceEquals(first, second) ? x1 : backend.Upload(second));
    }

    /// <summary>
    /// One pass over the tile: every metric's layer values, row-major first-block layer by second-block layer
    /// (NaN where the metric's pairs do not reach), in comparison units (<see cref="Scale"/>): mutual_knn's exact
    /// overlap counts, the other metrics' scores. With <paramref name="secondPermutation"/> it is one
    /// permutation-null draw: the second block's samples relabelled, its sketches relabelled and never rebuilt.
    /// The products are the backend's, one call per kind of product for the whole tile.
    /// </summary>
    public static double[][] LayerValues(ITileBackend backend, ITileBlock x1, ITileBlock y1, IReadOnlyList<TileMetric> metrics, SamplePermutation? secondPermutation)
    {
        SketchBlock first = x1.Block, second = y1.Block;
        var layerValues = new double[metrics.Count][];
        foreach (var group in metrics.Select((m, i) => (m, i)).GroupBy(p => Family(p.m.Metric, first.SampleCount)))
        {
            var members = group.ToList();
            var union = members.Select(p => p.m.Pairs).Aggregate((a, b) => a.Union(b));
            var region = Region(first, second, union);
            switch (group.Key)
            {
                case KernelFamily kernel:
                {
                    bool unbiased = members.Any(p => p.m.Metric.Unbiased);
                    var products = secondPermutation is null
                        ? backend.KernelProducts(x1, y1, kernel.Kernel, unbiased, region)
                        : backend.KernelProducts(x1, y1, kernel.Kernel, unbiased, PermutedCover(first, second, union, region), secondPermutation);
                    var kx = first.Kernels(kernel.Kernel);
                    var ky = second.Kernels(kernel.Kernel);
                    foreach (var (m, i) in members) layerValues[i] = Cka(m.Metric, products, kx, ky);
                    break;
                }
                case OverlapFamily overlap:
                {
                    var counts = secondPermutation is null
                        ? backend.NeighbourOverlaps(x1, y1, overlap.Columns, region)
                        : backend.NeighbourOverlaps(x1, y1, overlap.Columns, region, secondPermutation);
                    var values = counts.Select(c => c < 0 ? double.NaN : c).ToArray();
                    foreach (var (_, i) in members) layerValues[i] = values;
                    break;
                }
                default:
                    foreach (var (m, i) in members)
                    {
                        var own = Region(first, second, m.Pairs);
                        layerValues[i] = secondPermutation is null
                            ? backend.LayerPairScores(x1, y1, m.Metric, own)
                            : backend.LayerPairScores(x1, y1, m.Metric, own, secondPermutation);
                    }
                    break;
            }
        }
        return layerValues;
    }

    /// <summary>
    /// How a metric's layer values become scores: mutual_knn's counts as <see cref="MutualKnn.FromOverlap"/>,
    /// (float)(count / (k' N)); every other metric's values are its scores.
    /// </summary>
    public static ScoreScale Scale(MetricSpec metric, int sampleCount) =>
        metric.Kind == MetricKind.MutualKnn ? new ScoreScale((double)metric.Columns(sampleCount) * sampleCount, Float32: true) : ScoreScale.Identity;

    /// <summary>One model pair's layer matrix out of a tile's layer values, scaled to scores.</summary>
    private static double[,] PairMatrix(SketchBlock first, SketchBlock second, double[] values, (int First, int Second) pair, ScoreScale scale)
    {
        var (a0, a1) = first.Layers(pair.First, pair.First + 1);
        var (b0, b1) = second.Layers(pair.Second, pair.Second + 1);
        int ty = second.LayerCount;
        var matrix = new double[a1 - a0, b1 - b0];
        for (int a = a0; a < a1; a++)
            for (int b = b0; b < b1; b++) matrix[a - a0, b - b0] = scale.Apply(values[a * ty + b]);
        return matrix;
    }

    /// <summary>cka or unbiased_cka of every layer pair from the kernel products.</summary>
    private static double[] Cka(MetricSpec metric, KernelProducts products, CentredKernels x, CentredKernels y)
    {
        int ty = y.LayerCount, n = x.SampleCount;
        var scores = new double[products.Inner.Length];
        for (int a = 0; a < x.LayerCount; a++)
            for (int b = 0; b < ty; b++)
            {
                int p = a * ty + b;
                scores[p] = metric.Unbiased
                    ? Metrics.Cka.FromHsic(CentredKernels.Unbiased(n, products.Inner[p], products.AlphaDots![p], products.ExcessDots![p], x.AlphaSum[a], y.AlphaSum[b]),
                        x.SelfUnbiased[a], y.SelfUnbiased[b])
                    : Metrics.Cka.FromHsic(products.Inner[p], x.SelfBiased[a], y.SelfBiased[b]);
            }
        return scores;
    }

    /// <summary>The block layers a mask's model pairs cover.</summary>
    private static TileRegion Region(SketchBlock first, SketchBlock second, PairMask mask)
    {
        var rectangles = mask.Rectangles().Select(r =>
        {
            var (a0, a1) = first.Layers(r.First0, r.First1);
            var (b0, b1) = second.Layers(r.Second0, r.Second1);
            return new LayerRectangle(a0, a1, b0, b1);
        }).ToList();
        bool sameBlock = ReferenceEquals(first, second) && (mask.IsTriangle || mask.Count == mask.FirstCount * mask.SecondCount);
        return new TileRegion(rectangles, sameBlock);
    }

    private abstract record ProductFamily;
    private sealed record KernelFamily(KernelFunction Kernel) : ProductFamily;
    private sealed record OverlapFamily(int Columns) : ProductFamily;
    private sealed record PairFamily(MetricSpec Metric) : ProductFamily;

    /// <summary>Metrics that share one product: kernel metrics by kernel function, mutual_knn by its columns.</summary>
    private static ProductFamily Family(MetricSpec metric, int sampleCount) => metric.Kind switch
    {
        MetricKind.Cka or MetricKind.UnbiasedCka => new KernelFamily(metric.Kernel),
        MetricKind.MutualKnn => new OverlapFamily(metric.Columns(sampleCount)),
        _ => new PairFamily(metric),
    };
}
