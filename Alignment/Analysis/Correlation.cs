using Prh.Alignment.Metrics;

namespace Prh.Alignment.Analysis;

/// <summary>
/// Correlation coefficients of paired samples, the statistics of <c>scipy.stats.pearsonr</c> and
/// <c>scipy.stats.spearmanr</c>: the paper's Fig. 3 reads alignment against competence through both.
/// </summary>
public static class Correlation
{
    /// <summary>
    /// Pearson's r. NaN when either sample is constant (no linear relation is defined; scipy returns NaN
    /// there too), so a bootstrap resample that happens to draw one model only can be told apart.
    /// </summary>
    public static double Pearson(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        int n = x.Count;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++)
        {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        // Centred sums in two passes: one pass (sum of products minus n mx my) cancels badly when the
        // values sit far from zero with little spread, as alignment scores near 1 do.
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return double.NaN;
        // Rounding can take |r| a hair past 1 for exactly linear samples.
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1, 1);
    }

    /// <summary>Spearman's rho: Pearson's r of the samples' ranks, tied values sharing their average rank.</summary>
    public static double Spearman(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        Check(x, y);
        return Pearson(AverageRanks(x), AverageRanks(y));
    }

    /// <summary>
    /// Ranks from 1 (smallest) to n; values that tie share the mean of the ranks they span
    /// (<c>scipy.stats.rankdata(method="average")</c>), which keeps Spearman's rho symmetric in ties.
    /// </summary>
    public static double[] AverageRanks(IReadOnlyList<double> values)
    {
        int n = values.Count;
        var order = Enumerable.Range(0, n).ToArray();
        // A stable order of the positions by value; which of two equal values comes first does not
        // matter, since both get the same rank.
        Array.Sort(order, (a, b) => values[a].CompareTo(values[b]) is var c && c != 0 ? c : a.CompareTo(b));
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && values[order[end]] == values[order[start]]) end++;
            double rank = (start + 1 + end) / 2.0; // mean of the 1-based ranks start+1 .. end
            for (int k = start; k < end; k++) ranks[order[k]] = rank;
            start = end;
        }
        return ranks;
    }

    private static void Check(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count)
            throw new AlignmentException(ErrorKind.ValueError, $"a correlation needs paired samples; got {x.Count} and {y.Count} values");
        if (x.Count < 2)
            throw new AlignmentException(ErrorKind.ValueError, $"a correlation needs at least 2 pairs; got {x.Count}");
        for (int i = 0; i < x.Count; i++)
            if (!double.IsFinite(x[i]) || !double.IsFinite(y[i]))
                throw new AlignmentException(ErrorKind.ValueError, $"a correlation needs finite values; pair {i} is ({x[i]}, {y[i]})");
    }
}
