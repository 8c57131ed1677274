using Prh.Alignment.AllPairs;
using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Scoring;

/// <summary>The reference's model-level entry points, <c>compute_score</c> and <c>compute_alignment</c>, through the tile engine.</summary>
public static class AlignmentScoring
{
    /// <summary>
    /// compute_score(x, y): every layer pair of two prepared models (see <see cref="FeaturePreparation.Prepare(ModelFeatures, double)"/>)
    /// and the best pair by the reference's rule: a tile of one model against one.
    /// </summary>
    public static LayerScores ComputeScore(ModelSketch x, ModelSketch y, MetricSpec metric, ITileBackend? backend = null)
    {
        var first = new SketchBlock([x]);
        var second = ReferenceEquals(x, y) ? first : new SketchBlock([y]);
        return TileScorer.Score(backend ?? CpuTileBackend.Default, first, second, [new TileMetric(metric, PairMask.All(1, 1))])[0][0].Scores;
    }

    /// <summary>One metric value for two single-layer inputs, as the reference's metric functions.</summary>
    public static double ScoreOne(ModelSketch a, ModelSketch b, MetricSpec metric) => ComputeScore(a, b, metric).Scores[0, 0];

    /// <summary>
    /// compute_alignment(xs, ys): entry [i, j] = compute_score(ys[j], xs[i]) (the reference swaps the
    /// arguments), so its indices are (layer of ys[j], layer of xs[i]). When <paramref name="symmetric"/>
    /// (the reference's <c>x_paths == y_paths</c>) and the metric is not cycle_knn, only i &lt;= j is
    /// computed and [j, i] mirrors [i, j] with the indices reversed. The pairs are scored in tiles that fit
    /// the backend's memory budget; each model's sketch is built once and shared by all its tiles.
    /// </summary>
    public static AlignmentMatrix ComputeAlignment(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys, MetricSpec metric, bool symmetric,
        ITileBackend? backend = null)
    {
        backend ??= CpuTileBackend.Default;
        var (plans, mirror) = PlanAlignment(xs, ys, metric, symmetric, backend);
        var entries = new LayerScores?[xs.Count, ys.Count];
        foreach (var plan in plans)
        {
            var (first, second) = Blocks(plan, xs, ys);
            foreach (var score in TileScorer.Score(backend, first, second, [new TileMetric(metric, plan.Masks[0]!)])[0])
                entries[plan.Seconds[score.Second], plan.Firsts[score.First]] = score.Scores;
        }

        var scores = new double[xs.Count, ys.Count];
        var indices = new (int, int)?[xs.Count, ys.Count];
        for (int i = 0; i < xs.Count; i++)
            for (int j = 0; j < ys.Count; j++)
            {
                bool mirrored = mirror && i > j;
                var entry = mirrored ? entries[j, i]! : entries[i, j]!;
                scores[i, j] = entry.BestScore;
                indices[i, j] = mirrored && entry.BestIndices is { } b ? (b.Y, b.X) : entry.BestIndices;
            }
        return new AlignmentMatrix(scores, indices);
    }

    /// <summary>
    /// The tiles of compute_alignment(xs, ys) within the backend's budget, and whether [j, i] mirrors [i, j]
    /// (<paramref name="symmetric"/> and a mirrored metric: only i &lt;= j is planned). Tiles take first
    /// arguments from ys and second arguments from xs.
    /// </summary>
    internal static (IReadOnlyList<TilePlan> Plans, bool Mirror) PlanAlignment(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys,
        MetricSpec metric, bool symmetric, ITileBackend backend)
    {
        bool mirror = symmetric && metric.Mirrored;
        if (symmetric && xs.Count != ys.Count)
            throw new ArgumentException("a symmetric alignment needs the same models on both sides");
        var needed = new PairMask(ys.Count, xs.Count);
        for (int j = 0; j < ys.Count; j++)
            for (int i = 0; i < xs.Count; i++) needed[j, i] = !mirror || i <= j;
        int n = xs[0].SampleCount;
        var plans = TilePlanner.Plan(ys.Select(m => m.LayerCount).ToList(), xs.Select(m => m.LayerCount).ToList(), symmetric, [needed],
            TilePlanner.LayerBytes(n, SketchRequest.For([metric], n)), backend.MemoryBudget);
        return (plans, mirror);
    }

    /// <summary>A planned tile's two blocks of sketches: its ys, and its xs (the same block when the tile pairs a block with itself).</summary>
    internal static (SketchBlock First, SketchBlock Second) Blocks(TilePlan plan, IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys)
    {
        var first = new SketchBlock(plan.Firsts.Select(j => ys[j]).ToList());
        return (first, plan.SameModels ? first : new SketchBlock(plan.Seconds.Select(i => xs[i]).ToList()));
    }
}

/// <summary>compute_alignment's scores and best layer indices (null where no layer pair scored above 0).</summary>
public sealed record AlignmentMatrix(double[,] Scores, (int, int)?[,] Indices);
