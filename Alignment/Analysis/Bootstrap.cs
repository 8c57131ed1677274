using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// The percentile bootstrap (Efron and Tibshirani 1993, ch. 13): the statistic recomputed on resamples
/// of the items drawn with replacement, and the interval between the quantiles (1 - level)/2 and
/// (1 + level)/2 of those values. Items are whole models, so a resample keeps each model's pair of
/// values together.
/// </summary>
public static class Bootstrap
{
    /// <summary>
    /// The statistic of all <paramref name="count"/> items, and its interval from
    /// <paramref name="resamples"/> resamples. <paramref name="statistic"/> reads a list of item
    /// indices (repeats allowed); a resample where it is not finite (a correlation of a constant
    /// sample) is left out of the quantiles and out of <see cref="BootstrapInterval.Used"/>.
    /// The same seed draws the same resamples: <see cref="Random(int)"/> with a seed is the runtime's
    /// fixed legacy generator, whose sequence does not change between .NET versions or machines.
    /// </summary>
    public static BootstrapInterval Percentile(int count, Func<IReadOnlyList<int>, double> statistic, int resamples, double level, int seed)
    {
        if (count < 1) throw new AlignmentException(ErrorKind.ValueError, $"the bootstrap needs at least one item; got {count}");
        if (resamples < 1) throw new AlignmentException(ErrorKind.ValueError, $"the bootstrap needs at least one resample; got {resamples}");
        if (!(level > 0 && level < 1)) throw new AlignmentException(ErrorKind.ValueError, $"the confidence level must lie in (0, 1); got {level}");

        double estimate = statistic(Enumerable.Range(0, count).ToArray());
        var random = new Random(seed);
        var draw = new int[count];
        var values = new List<double>(resamples);
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < count; i++) draw[i] = random.Next(count);
            double value = statistic(draw);
            if (double.IsFinite(value)) values.Add(value);
        }
        values.Sort();
        double tail = (1 - level) / 2;
        return new BootstrapInterval(estimate, Quantile(values, tail), Quantile(values, 1 - tail), level, resamples, values.Count);
    }

    /// <summary>
    /// The q-quantile of sorted values, interpolated linearly between the two nearest order statistics
    /// (numpy.percentile's default, Hyndman and Fan's type 7), so results compare with numpy's.
    /// </summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) return double.NaN;
        double position = q * (sorted.Count - 1);
        int below = (int)Math.Floor(position);
        if (below >= sorted.Count - 1) return sorted[^1];
        double fraction = position - below;
        return sorted[below] + fraction * (sorted[below + 1] - sorted[below]);
    }
}
