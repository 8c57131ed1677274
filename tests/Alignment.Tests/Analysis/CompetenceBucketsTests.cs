using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class CompetenceBucketsTests
{
    /// <summary>A symmetric matrix whose (i, j) entry is <paramref name="pair"/>(i, j) for i &lt; j; NaN diagonal, as SymmetricAlignment gives.</summary>
    private static double[][] Matrix(int n, Func<int, int, double> pair) =>
        Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => i == j ? double.NaN : pair(Math.Min(i, j), Math.Max(i, j))).ToArray()).ToArray();

    [Fact]
    public void Models_are_cut_by_competence_into_equal_runs_and_each_bucket_averages_its_pairs()
    {
        // Competence order: model 1, 2, 0, 5, 4, 3; pair (i, j) scores 10 i + j.
        double[] competence = [3, 1, 2, 6, 5, 4];
        var buckets = CompetenceBuckets.Build(competence, Matrix(6, (i, j) => 10 * i + j), 3);
        Assert.Equal([[1, 2], [0, 5], [4, 3]], buckets.Select(b => b.Models.ToArray()));
        Assert.Equal([12.0, 5.0, 34.0], buckets.Select(b => b.Mean));
        Assert.Equal([(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)], buckets.Select(b => (b.CompetenceMin, b.CompetenceMax)));
        Assert.All(buckets, b => Assert.Equal(1, b.Pairs));
        Assert.All(buckets, b => Assert.True(double.IsNaN(b.StandardError)));
    }

    [Fact]
    public void The_standard_error_is_the_pairs_sample_deviation_over_the_root_of_their_number()
    {
        // One bucket of 4 models: the 6 pairs score 0.1 .. 0.6; mean 0.35, sample variance 0.035.
        var scores = new Dictionary<(int, int), double> { [(0, 1)] = 0.1, [(0, 2)] = 0.2, [(0, 3)] = 0.3, [(1, 2)] = 0.4, [(1, 3)] = 0.5, [(2, 3)] = 0.6 };
        var bucket = Assert.Single(CompetenceBuckets.Build([1, 2, 3, 4], Matrix(4, (i, j) => scores[(i, j)]), 1));
        Assert.Equal(6, bucket.Pairs);
        Assert.Equal(0.35, bucket.Mean, 1e-15);
        Assert.Equal(Math.Sqrt(0.035 / 6), bucket.StandardError, 1e-15);
    }

    [Fact]
    public void Sizes_differ_by_at_most_one_and_ties_keep_the_matrix_order()
    {
        var buckets = CompetenceBuckets.Build([5, 5, 5, 5, 5, 5, 5], Matrix(7, (_, _) => 0.5), 3);
        Assert.Equal([[0, 1, 2], [3, 4], [5, 6]], buckets.Select(b => b.Models.ToArray()));
        var eleven = CompetenceBuckets.Build(Enumerable.Range(0, 11).Select(i => (double)i).ToArray(), Matrix(11, (_, _) => 0.5), 5);
        Assert.Equal([3, 2, 2, 2, 2], eleven.Select(b => b.Models.Count));
    }

    [Fact]
    public void More_buckets_than_half_the_models_are_refused()
    {
        var e = Assert.Throws<AlignmentException>(() => CompetenceBuckets.Build([1, 2, 3, 4, 5], Matrix(5, (_, _) => 0.5), 3));
        Assert.Contains("at most 2 buckets", e.Message);
        Assert.Throws<AlignmentException>(() => CompetenceBuckets.Build([1, 2, 3, 4], Matrix(4, (_, _) => 0.5), 0));
    }
}
