using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Client.Analysis;

/// <summary>
/// The paper's analyses of one metric's matrix against the models' competence: the competence buckets
/// (Fig. 2 left), the 2-D map (Fig. 2 right) and, given a reference, alignment against competence
/// (Fig. 3). <see cref="Symmetric"/> is the matrix every part reads: one score per pair of models.
/// </summary>
internal sealed record AnalysisReport(
    ModelMatrix Matrix,
    IReadOnlyList<double> Competence,
    double[][] Symmetric,
    IReadOnlyList<CompetenceBucket> Buckets,
    MdsEmbedding Map,
    ReferenceCorrelation? Reference)
{
    /// <summary>The paper's number of buckets, where there are models enough for it (two per bucket).</summary>
    public const int DefaultBuckets = 5;

    /// <summary>The confidence level of the correlations' intervals.</summary>
    public const double Level = 0.95;

    /// <summary>
    /// Runs every analysis. <paramref name="buckets"/> null takes <see cref="DefaultBuckets"/>, or as many
    /// as the models allow when they are fewer than ten; a number given is held to. <paramref name="group"/>
    /// (indices) is the reference, or null for none.
    /// </summary>
    public static AnalysisReport Compute(ModelMatrix matrix, IReadOnlyList<double> competence, int? buckets, IReadOnlyList<int>? group, int resamples, int seed)
    {
        int n = matrix.Models.Count;
        if (n < 3)
            throw new AlignmentException(ErrorKind.ValueError,
                $"the {matrix.Metric} matrix has {n} {(n == 1 ? "model" : "models")} ({string.Join(", ", matrix.Models)}); the analyses need at least 3");
        var symmetric = SymmetricAlignment.Scores(matrix.Models, matrix.Scores);
        var bucketList = CompetenceBuckets.Build(competence, symmetric, buckets ?? Math.Min(DefaultBuckets, n / 2));
        var map = ClassicalMds.Embed(SymmetricAlignment.Distances(symmetric), 2);
        return new AnalysisReport(matrix, competence, symmetric, bucketList, map, group is null ? null : Correlate(matrix, competence, symmetric, group, resamples, seed));
    }

    private static ReferenceCorrelation Correlate(ModelMatrix matrix, IReadOnlyList<double> competence, double[][] symmetric, IReadOnlyList<int> group, int resamples, int seed)
    {
        var points = ReferenceAlignment.Against(symmetric, group);
        if (points.Models.Count < 3)
            throw new AlignmentException(ErrorKind.ValueError,
                $"the reference ({string.Join(", ", group.Select(g => matrix.Models[g]))}) leaves {points.Models.Count} models to correlate; a correlation needs at least 3");
        var x = points.Models.Select(i => competence[i]).ToArray();
        var y = points.Alignment;
        BootstrapInterval Interval(Func<IReadOnlyList<double>, IReadOnlyList<double>, double> statistic) =>
            Bootstrap.Percentile(x.Length, draw => statistic(draw.Select(k => x[k]).ToArray(), draw.Select(k => y[k]).ToArray()), resamples, Level, seed);
        return new ReferenceCorrelation(group, points, Interval(Correlation.Spearman), Interval(Correlation.Pearson), seed);
    }
}
