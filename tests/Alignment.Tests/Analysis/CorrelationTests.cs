using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class CorrelationTests
{
    private static readonly double[] s_x = [1, 2, 3, 4, 5];
    private static readonly double[] s_y = [2, 4, 5, 4, 5];

    [Fact]
    public void Pearson_matches_the_hand_computed_value()
    {
        // Centred: dx = (-2, -1, 0, 1, 2), dy = (-2, 0, 1, 0, 1); r = 6 / sqrt(10 * 6).
        Assert.Equal(6 / Math.Sqrt(60), Correlation.Pearson(s_x, s_y), 1e-15);
    }

    [Fact]
    public void Spearman_gives_ties_their_average_rank()
    {
        // Ranks of y: 1, 2.5, 4.5, 2.5, 4.5 (the two 4s share ranks 2 and 3, the two 5s ranks 4 and 5);
        // centred: (-2, -0.5, 1.5, -0.5, 1.5), so rho = 7 / sqrt(10 * 9).
        Assert.Equal([1, 2.5, 4.5, 2.5, 4.5], Correlation.AverageRanks(s_y));
        Assert.Equal(7 / Math.Sqrt(90), Correlation.Spearman(s_x, s_y), 1e-15);
    }

    [Fact]
    public void Average_ranks_of_distinct_values_are_their_order()
    {
        Assert.Equal([2, 3.5, 3.5, 1], Correlation.AverageRanks([10, 20, 20, 5]));
        Assert.Equal([3, 1, 2], Correlation.AverageRanks([0.3, -1, 0.2]));
    }

    [Fact]
    public void Spearman_of_a_monotone_transform_is_one_and_of_a_decreasing_one_minus_one()
    {
        var random = new Random(5);
        var x = Enumerable.Range(0, 40).Select(_ => random.NextDouble() * 10 - 5).ToArray();
        Assert.Equal(1.0, Correlation.Spearman(x, x.Select(Math.Exp).ToArray()));
        Assert.Equal(1.0, Correlation.Spearman(x, x.Select(v => v * v * v).ToArray()));
        Assert.Equal(-1.0, Correlation.Spearman(x, x.Select(v => -Math.Atan(v)).ToArray()));
        // Pearson sees the curvature that Spearman ignores.
        Assert.True(Correlation.Pearson(x, x.Select(Math.Exp).ToArray()) < 0.9);
    }

    [Fact]
    public void Pearson_of_a_linear_relation_is_one_and_is_symmetric()
    {
        var x = new double[] { 0.1, 0.7, 0.3, 0.9, 0.5 };
        Assert.Equal(1.0, Correlation.Pearson(x, x.Select(v => 3 * v + 2).ToArray()), 1e-15);
        Assert.Equal(-1.0, Correlation.Pearson(x, x.Select(v => 1 - v).ToArray()), 1e-15);
        Assert.Equal(Correlation.Pearson(s_x, s_y), Correlation.Pearson(s_y, s_x));
        Assert.Equal(Correlation.Spearman(s_x, s_y), Correlation.Spearman(s_y, s_x));
    }

    [Fact]
    public void A_constant_sample_has_no_correlation()
    {
        Assert.True(double.IsNaN(Correlation.Pearson([1, 2, 3], [4, 4, 4])));
        Assert.True(double.IsNaN(Correlation.Spearman([2, 2, 2], [1, 2, 3])));
    }

    [Fact]
    public void Unpaired_short_or_non_finite_samples_are_refused()
    {
        Assert.Contains("paired", Assert.Throws<AlignmentException>(() => Correlation.Pearson([1, 2, 3], [1, 2])).Message);
        Assert.Contains("at least 2", Assert.Throws<AlignmentException>(() => Correlation.Spearman([1], [1])).Message);
        Assert.Contains("pair 1", Assert.Throws<AlignmentException>(() => Correlation.Pearson([1, double.NaN, 3], [1, 2, 3])).Message);
    }
}
