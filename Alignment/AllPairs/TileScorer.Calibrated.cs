using Prh.Alignment.Calibration;
using Prh.Alignment.Scoring;

namespace Prh.Alignment.AllPairs;

public static partial class TileScorer
{
    /// <summary>
    /// A tile scored and calibrated by a permutation null (Aristotelian's Algorithm 2, CALIBRATION.md §1.2): the
    /// observed pass, then one pass per draw k with the second block's samples relabelled by
    /// <paramref name="permutations"/>[k] (the same permutation for every layer and every model pair), the whole
    /// layer x layer matrix recomputed and reduced, per model pair, to each aggregate of
    /// <paramref name="options"/>. Per pair it keeps the observed matrix, K null values per aggregate and, with
    /// <see cref="CalibrationOptions.PerCell"/>, running per-cell counts; never K matrices. The statistics come
    /// from <see cref="CalibratedTilePair.Calibrate"/> and <see cref="CalibratedTilePair.CalibrateCells"/>.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<CalibratedTilePair>> ScoreCalibrated(ITileBackend backend, SketchBlock first, SketchBlock second,
        IReadOnlyList<TileMetric> metrics, SamplePermutations permutations, CalibrationOptions options)
    {
        options.Validate();
        permutations.CheckSampleCount(first.SampleCount);
        var (x1, y1) = Prepare(backend, first, second, metrics);
        int count = permutations.Count, ty = second.LayerCount;
        var pairs = metrics.Select(m => m.Pairs.Pairs().ToArray()).ToArray();
        var scales = metrics.Select(m => Scale(m.Metric, first.SampleCount)).ToArray();
        var observed = LayerValues(backend, x1, y1, metrics, null);
        var nulls = pairs.Select(p => p.Select(_ => options.Aggregates.Select(_ => new double[count]).ToArray()).ToArray()).ToArray();
        var cells = pairs.Select((p, i) => p.Select(pair =>
        {
            var (rows, columns) = Shape(first, second, pair);
            return options.PerCell ? new CellNulls(PairValues(first, second, observed[i], pair), rows, columns, count, options.Alpha, scales[i]) : null;
        }).ToArray()).ToArray();
        var scratch = new AggregateScratch();
        var buffer = new double[first.Models.Max(m => m.LayerCount) * second.Models.Max(m => m.LayerCount)];

        for (int k = 0; k < count; k++)
        {
            var values = LayerValues(backend, x1, y1, metrics, permutations[k]);
            for (int i = 0; i < metrics.Count; i++)
                for (int p = 0; p < pairs[i].Length; p++)
                {
                    var (rows, columns) = Shape(first, second, pairs[i][p]);
                    var matrix = buffer.AsSpan(0, rows * columns);
                    CopyPair(first, second, values[i], pairs[i][p], matrix, ty);
                    for (int g = 0; g < options.Aggregates.Count; g++) nulls[i][p][g][k] = options.Aggregates[g].Apply(matrix, rows, columns, scratch);
                    cells[i][p]?.Add(matrix);
                }
        }

        return metrics.Select((m, i) => (IReadOnlyList<CalibratedTilePair>)pairs[i].Select((pair, p) =>
        {
            var (rows, columns) = Shape(first, second, pair);
            var raw = PairValues(first, second, observed[i], pair);
            var aggregates = options.Aggregates.Select(a => a.Apply(raw, rows, columns, scratch)).ToArray();
            return new CalibratedTilePair(pair.First, pair.Second, LayerScores.FromMatrix(PairMatrix(first, second, observed[i], pair, scales[i])),
                scales[i], options.Aggregates, aggregates, nulls[i][p], cells[i][p]);
        }).ToList()).ToList();
    }

    private static (int Rows, int Columns) Shape(SketchBlock first, SketchBlock second, (int First, int Second) pair) =>
        (first.Models[pair.First].LayerCount, second.Models[pair.Second].LayerCount);

    /// <summary>One model pair's layer values (comparison units), row-major.</summary>
    private static double[] PairValues(SketchBlock first, SketchBlock second, double[] values, (int First, int Second) pair)
    {
        var (rows, columns) = Shape(first, second, pair);
        var matrix = new double[rows * columns];
        CopyPair(first, second, values, pair, matrix, second.LayerCount);
        return matrix;
    }

    private static void CopyPair(SketchBlock first, SketchBlock second, double[] values, (int First, int Second) pair, Span<double> matrix, int ty)
    {
        int a0 = first.LayerStart[pair.First], b0 = second.LayerStart[pair.Second];
        int rows = first.Models[pair.First].LayerCount, columns = second.Models[pair.Second].LayerCount;
        for (int a = 0; a < rows; a++) values.AsSpan((a0 + a) * ty + b0, columns).CopyTo(matrix.Slice(a * columns, columns));
    }

    /// <summary>Layers a diagonal square of the cover may hold before it is split (about the size below which a matrix product stops being compute-bound).</summary>
    private const int CoverLeafLayers = 64;

    /// <summary>
    /// The rectangles a permuted kernel pass computes for <paramref name="region"/>. A block against itself with a
    /// triangle of model pairs is symmetric no more once one side is permuted, so the triangle is covered by few
    /// large products instead of one thin product per model row: split the models in two at the layer midpoint,
    /// the off-diagonal rectangle whole, each half again, down to diagonal squares of at most
    /// <see cref="CoverLeafLayers"/> layers (or one model). Extra cells cost at most half a leaf square per leaf.
    /// Other regions are their own rectangles.
    /// </summary>
    private static TileRegion PermutedCover(SketchBlock first, SketchBlock second, PairMask mask, TileRegion region)
    {
        if (!region.SameBlock) return region;
        int models = first.Models.Count;
        if (!mask.IsTriangle || models == 1) return new TileRegion([new LayerRectangle(0, first.LayerCount, 0, second.LayerCount)], SameBlock: false);
        bool upper = mask[0, models - 1];
        var rectangles = new List<LayerRectangle>();
        void Cover(int m0, int m1)
        {
            var (l0, l1) = first.Layers(m0, m1);
            if (m1 - m0 == 1 || l1 - l0 <= CoverLeafLayers)
            {
                rectangles.Add(new LayerRectangle(l0, l1, l0, l1));
                return;
            }
            int split = m0 + 1;
            while (split < m1 - 1 && first.LayerStart[split + 1] - l0 <= (l1 - l0) / 2) split++;
            Cover(m0, split);
            Cover(split, m1);
            var (s0, s1) = (first.LayerStart[split], l1);
            rectangles.Add(upper ? new LayerRectangle(l0, s0, s0, s1) : new LayerRectangle(s0, s1, l0, s0));
        }
        Cover(0, models);
        return new TileRegion(rectangles, SameBlock: false);
    }
}
