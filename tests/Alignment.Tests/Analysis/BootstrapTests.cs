using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class BootstrapTests
{
    private static readonly double[] s_sample = Enumerable.Range(0, 60).Select(i => Math.Sin(i * 1.7) + 0.01 * i).ToArray();

    private static double Mean(IReadOnlyList<int> draw) => draw.Average(i => s_sample[i]);

    [Fact]
    public void Quantiles_interpolate_between_order_statistics_as_numpy_does()
    {
        double[] sorted = [1, 2, 3, 4];
        Assert.Equal(1, Bootstrap.Quantile(sorted, 0));
        Assert.Equal(1.75, Bootstrap.Quantile(sorted, 0.25));
        Assert.Equal(2.5, Bootstrap.Quantile(sorted, 0.5));
        Assert.Equal(4, Bootstrap.Quantile(sorted, 1));
        Assert.Equal(7, Bootstrap.Quantile([7], 0.975));
        Assert.True(double.IsNaN(Bootstrap.Quantile([], 0.5)));
    }

    [Fact]
    public void The_interval_is_the_same_for_a_seed_and_differs_between_seeds()
    {
        var first = Bootstrap.Percentile(s_sample.Length, Mean, 500, 0.95, seed: 3);
        var again = Bootstrap.Percentile(s_sample.Length, Mean, 500, 0.95, seed: 3);
        var other = Bootstrap.Percentile(s_sample.Length, Mean, 500, 0.95, seed: 4);
        Assert.Equal(first, again);
        Assert.NotEqual(first.Lower, other.Lower);
        Assert.Equal(first.Estimate, other.Estimate);
    }

    [Fact]
    public void The_interval_of_a_mean_contains_it_and_is_about_two_standard_errors_wide_each_side()
    {
        var interval = Bootstrap.Percentile(s_sample.Length, Mean, 2000, 0.95, seed: 0);
        double mean = s_sample.Average();
        Assert.Equal(mean, interval.Estimate, 1e-15);
        Assert.True(interval.Lower < mean && mean < interval.Upper, $"{interval}");
        double se = Math.Sqrt(s_sample.Sum(v => (v - mean) * (v - mean)) / s_sample.Length / s_sample.Length);
        Assert.InRange(interval.Upper - interval.Lower, 2 * 1.96 * se * 0.85, 2 * 1.96 * se * 1.15);
        Assert.Equal(2000, interval.Used);
        // A wider level gives a wider interval over the same resamples.
        var wider = Bootstrap.Percentile(s_sample.Length, Mean, 2000, 0.99, seed: 0);
        Assert.True(wider.Lower <= interval.Lower && wider.Upper >= interval.Upper);
    }

    [Fact]
    public void A_single_item_or_a_constant_statistic_gives_a_point_interval()
    {
        var one = Bootstrap.Percentile(1, draw => 5 + draw.Count(i => i == 0), 50, 0.95, seed: 1);
        Assert.Equal((6.0, 6.0, 6.0), (one.Estimate, one.Lower, one.Upper));
        var constant = Bootstrap.Percentile(10, _ => 0.25, 50, 0.9, seed: 1);
        Assert.Equal((0.25, 0.25), (constant.Lower, constant.Upper));
    }

    [Fact]
    public void Resamples_where_the_statistic_is_undefined_are_left_out_and_counted()
    {
        // With 3 items, a resample draws a single item three times with probability 3 / 27.
        double[] x = [1, 2, 3], y = [1, 3, 2];
        var interval = Bootstrap.Percentile(3, draw => Correlation.Pearson(draw.Select(i => x[i]).ToArray(), draw.Select(i => y[i]).ToArray()),
            2700, 0.95, seed: 0);
        Assert.InRange(interval.Used, 2700 - 450, 2700 - 150);
        Assert.True(double.IsFinite(interval.Lower) && double.IsFinite(interval.Upper));
        var never = Bootstrap.Percentile(4, _ => double.NaN, 20, 0.95, seed: 0);
        Assert.Equal(0, never.Used);
        Assert.True(double.IsNaN(never.Lower) && double.IsNaN(never.Upper));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<AlignmentException>(() => Bootstrap.Percentile(0, Mean, 10, 0.95, 0));
        Assert.Contains("resample", Assert.Throws<AlignmentException>(() => Bootstrap.Percentile(5, Mean, 0, 0.95, 0)).Message);
        Assert.Contains("(0, 1)", Assert.Throws<AlignmentException>(() => Bootstrap.Percentile(5, Mean, 10, 1, 0)).Message);
    }
}
