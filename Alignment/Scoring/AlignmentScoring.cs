using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Scoring;

/// <summary>The reference's model-level entry points, <c>compute_score</c> and <c>compute_alignment</c>.</summary>
public static class AlignmentScoring
{
    /// <summary>
    /// compute_score(x, y): every layer pair of two prepared models (see <see cref="FeaturePreparation.Prepare"/>)
    /// and the best pair by the reference's rule.
    /// </summary>
    public static LayerScores ComputeScore(ModelSketch x, ModelSketch y, MetricSpec metric) =>
        LayerScores.FromMatrix(LayerScorer.ScoreAll(x, y, metric));

    /// <summary>
    /// compute_alignment(xs, ys): entry [i, j] = compute_score(ys[j], xs[i]) (the reference swaps the
    /// arguments), so its indices are (layer of ys[j], layer of xs[i]). When <paramref name="symmetric"/>
    /// (the reference's <c>x_paths == y_paths</c>) and the metric is not cycle_knn, only i &lt;= j is
    /// computed and [j, i] mirrors [i, j] with the indices reversed. Each model's sketch is shared by
    /// all its pairs, so adding a model costs its own sketch and one row of pairs.
    /// </summary>
    public static AlignmentMatrix ComputeAlignment(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys, MetricSpec metric, bool symmetric)
    {
        bool mirror = symmetric && metric.Kind != MetricKind.CycleKnn;
        if (symmetric && xs.Count != ys.Count)
            throw new ArgumentException("a symmetric alignment needs the same models on both sides");
        var entries = new LayerScores?[xs.Count, ys.Count];
        for (int i = 0; i < xs.Count; i++)
            for (int j = 0; j < ys.Count; j++)
                if (!mirror || i <= j) entries[i, j] = ComputeScore(ys[j], xs[i], metric);
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
}

/// <summary>compute_alignment's scores and best layer indices (null where no layer pair scored above 0).</summary>
public sealed record AlignmentMatrix(double[,] Scores, (int, int)?[,] Indices);
