using Prh.Alignment.AllPairs;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Calibration;

/// <summary>compute_score and compute_alignment with every model pair calibrated by the same K permutations, through the tile engine.</summary>
public static class CalibratedScoring
{
    /// <summary>compute_score(x, y) calibrated: y's samples (the second argument's) are permuted, as Aristotelian's calibrate(X, Y).</summary>
    public static CalibratedTilePair ComputeScore(ModelSketch x, ModelSketch y, MetricSpec metric, SamplePermutations permutations, CalibrationOptions options,
        ITileBackend? backend = null)
    {
        var first = new SketchBlock([x]);
        var second = ReferenceEquals(x, y) ? first : new SketchBlock([y]);
        return TileScorer.ScoreCalibrated(backend ?? CpuTileBackend.Default, first, second, [new TileMetric(metric, PairMask.All(1, 1))], permutations, options)[0][0];
    }

    /// <summary>
    /// compute_alignment(xs, ys) calibrated: entry [i, j] is compute_score(ys[j], xs[i]) with xs[i]'s samples permuted.
    /// On the symmetric path ([j, i] mirrors [i, j] for i &lt; j) a mirrored entry's statistic is the transposed
    /// aggregate of its mirror's matrices, which is that entry's own null under the inverse permutations (a set of K
    /// permutations as valid as the first): <see cref="LayerAggregate.Transposed"/> is added to the pass where it differs.
    /// </summary>
    public static CalibratedAlignment ComputeAlignment(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys, MetricSpec metric, bool symmetric,
        SamplePermutations permutations, CalibrationOptions options, ITileBackend? backend = null)
    {
        backend ??= CpuTileBackend.Default;
        var (plans, mirror) = AlignmentScoring.PlanAlignment(xs, ys, metric, symmetric, backend);
        if (mirror) options = options.WithTransposes();

        var pairs = new CalibratedTilePair[xs.Count, ys.Count];
        var mirrored = new bool[xs.Count, ys.Count];
        foreach (var plan in plans)
        {
            var (first, second) = AlignmentScoring.Blocks(plan, xs, ys);
            foreach (var pair in TileScorer.ScoreCalibrated(backend, first, second, [new TileMetric(metric, plan.Masks[0]!)], permutations, options)[0])
                pairs[plan.Seconds[pair.Second], plan.Firsts[pair.First]] = pair;
        }
        for (int i = 0; i < xs.Count; i++)
            for (int j = 0; j < ys.Count; j++)
                if (mirror && i > j)
                {
                    pairs[i, j] = pairs[j, i];
                    mirrored[i, j] = true;
                }
        return new CalibratedAlignment(pairs, mirrored, options);
    }
}

/// <summary>
/// A calibrated compute_alignment: per entry [i, j] the calibrated pair that serves it and whether it is the
/// mirror of [j, i] (then its best indices are reversed and its aggregates transposed).
/// </summary>
public sealed class CalibratedAlignment(CalibratedTilePair[,] pairs, bool[,] mirrored, CalibrationOptions options)
{
    public CalibratedTilePair[,] Pairs { get; } = pairs;
    public bool[,] Mirrored { get; } = mirrored;

    /// <summary>The options of the pass, with the transposed aggregates a symmetric matrix added.</summary>
    public CalibrationOptions Options { get; } = options;

    public int Rows => Pairs.GetLength(0);
    public int Columns => Pairs.GetLength(1);

    /// <summary>compute_alignment's own answer: best scores and best layer indices.</summary>
    public AlignmentMatrix Alignment
    {
        get
        {
            var scores = new double[Rows, Columns];
            var indices = new (int, int)?[Rows, Columns];
            for (int i = 0; i < Rows; i++)
                for (int j = 0; j < Columns; j++)
                {
                    var best = Pairs[i, j].Scores;
                    scores[i, j] = best.BestScore;
                    indices[i, j] = Mirrored[i, j] && best.BestIndices is { } b ? (b.Y, b.X) : best.BestIndices;
                }
            return new AlignmentMatrix(scores, indices);
        }
    }

    /// <summary>Entry [i, j]'s statistics for <paramref name="aggregate"/> (one the pass computed).</summary>
    public Calibration Calibrate(int i, int j, LayerAggregate aggregate, CalibrationOptions options) =>
        Pairs[i, j].Calibrate(Index(i, j, aggregate), options);

    /// <summary>Entry [i, j]'s null values of <paramref name="aggregate"/> as scores.</summary>
    public double[] NullScores(int i, int j, LayerAggregate aggregate) => Pairs[i, j].NullScores(Index(i, j, aggregate));

    private int Index(int i, int j, LayerAggregate aggregate)
    {
        var own = Mirrored[i, j] ? aggregate.Transposed : aggregate;
        int index = Pairs[i, j].Aggregates.ToList().IndexOf(own);
        return index >= 0 ? index : throw new ArgumentException($"the pass computed no {own} aggregate");
    }
}
