using Prh.Alignment.Metrics;

namespace Prh.Alignment.Calibration;

/// <summary>
/// Tests over a models x models grid (CALIBRATION.md §2.5, Aristotelian's <c>experiments/multiple.py</c>).
/// </summary>
public static class MultipleTesting
{
    /// <summary>
    /// Benjamini–Hochberg at level <paramref name="q"/>: with p_(1) ≤ … ≤ p_(m), the largest i with
    /// p_(i) ≤ q i / m gives the cutoff p_(i) and every p ≤ cutoff is rejected; no such i gives cutoff 0 and
    /// no rejection (<c>bh_fdr</c>). NaN p-values sort last and are never rejected.
    /// </summary>
    public static (double Cutoff, bool[] Reject) BenjaminiHochberg(ReadOnlySpan<double> pValues, double q)
    {
        if (!(q > 0 && q < 1)) throw new AlignmentException(ErrorKind.ValueError, $"q (the false discovery rate) must lie strictly inside (0, 1), got {q}");
        int m = pValues.Length;
        var sorted = pValues.ToArray();
        Array.Sort(sorted, (a, b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b));
        double cutoff = 0;
        bool any = false;
        for (int i = m; i >= 1 && !any; i--)
            if (sorted[i - 1] <= q * ((double)i / m)) { cutoff = sorted[i - 1]; any = true; }
        var reject = new bool[m];
        if (any) for (int i = 0; i < m; i++) reject[i] = pValues[i] <= cutoff;
        return (cutoff, reject);
    }

    /// <summary>
    /// The max-statistic FWER threshold (<c>max_stat_threshold</c>): the element of rank ⌈(1 - α) K⌉
    /// (clamped to [1, K]) of the K permutation maxima alone, the observed value not included. Draw k's
    /// maximum is the family's largest null statistic under draw k, which is a joint null because every pair
    /// shares draw k's permutation.
    /// <para>We reject a pair when its observed statistic is strictly above the threshold, as the τ-gate is
    /// non-zero only strictly above τ and a tie counts against the observed value in p: with no ties the
    /// family's observed maximum is above the threshold with probability (⌊αK⌋ + 1) / (K + 1) under the null,
    /// α exactly when α(K + 1) is an integer (K = 19, 199, 999 at α = 0.05) and at most 1/(K + 1) above it
    /// otherwise; ≥ would also reject at ties, which discrete metrics make common. <see cref="FamilyPValue"/>
    /// is the exact-level alternative.</para>
    /// </summary>
    public static double MaxStatisticThreshold(ReadOnlySpan<double> familyMaxima, double alpha)
    {
        PermutationTest.Validate(familyMaxima.Length, alpha);
        var sorted = familyMaxima.ToArray();
        Array.Sort(sorted);
        int rank = (int)Math.Clamp(Math.Ceiling((1.0 - alpha) * sorted.Length), 1, sorted.Length);
        return sorted[rank - 1];
    }

    /// <summary>The rule <see cref="MaxStatisticThreshold"/> documents: reject iff observed &gt; threshold.</summary>
    public static bool RejectFamilyWise(double observed, double threshold) => observed > threshold;

    /// <summary>
    /// The single-step max-T adjusted p (Westfall and Young 1993): (1 + #{k : family max_k ≥ s}) / (K + 1);
    /// rejecting where it is ≤ α controls the family-wise error at exactly α for K + 1 exchangeable values.
    /// </summary>
    public static double FamilyPValue(ReadOnlySpan<double> familyMaxima, double observed) =>
        PermutationTest.PValue(PermutationTest.Exceedances(familyMaxima, observed), familyMaxima.Length);

    /// <summary>Draw by draw, the largest of several pairs' null statistics (all on one scale): the family maxima.</summary>
    public static double[] FamilyMaxima(IReadOnlyList<double[]> pairNulls)
    {
        if (pairNulls.Count == 0) throw new AlignmentException(ErrorKind.ValueError, "a family needs at least one pair");
        var maxima = (double[])pairNulls[0].Clone();
        foreach (var nulls in pairNulls.Skip(1))
        {
            if (nulls.Length != maxima.Length) throw new ArgumentException($"pairs with {maxima.Length} and {nulls.Length} null values");
            for (int k = 0; k < maxima.Length; k++) maxima[k] = Math.Max(maxima[k], nulls[k]);
        }
        return maxima;
    }
    /// <summary>
    /// The grid's multiple tests: Benjamini–Hochberg at <paramref name="fdr"/> over its p-values taken row-major, and
    /// the max-statistic threshold at <paramref name="alpha"/> over the whole grid (draw k's maximum of every entry's
    /// null, <paramref name="nullScores"/> row-major, all sharing draw k's permutation) with the entries above it.
    /// </summary>
    public static GridTests Grid(Calibration[,] tests, IReadOnlyList<double[]> nullScores, double alpha, double fdr)
    {
        int rows = tests.GetLength(0), columns = tests.GetLength(1);
        var pValues = new double[rows * columns];
        for (int c = 0; c < pValues.Length; c++) pValues[c] = tests[c / columns, c % columns].PValue;
        var (cutoff, reject) = BenjaminiHochberg(pValues, fdr);
        double threshold = MaxStatisticThreshold(FamilyMaxima(nullScores), alpha);
        var significant = new bool[rows, columns];
        var familyWise = new bool[rows, columns];
        for (int c = 0; c < pValues.Length; c++)
        {
            significant[c / columns, c % columns] = reject[c];
            familyWise[c / columns, c % columns] = RejectFamilyWise(tests[c / columns, c % columns].Observed, threshold);
        }
        return new GridTests(cutoff, significant, threshold, familyWise);
    }
}

/// <summary>A grid's multiple tests: BH's cutoff and rejections, the max-statistic FWER threshold and its rejections.</summary>
public sealed record GridTests(double BhCutoff, bool[,] Significant, double FwerThreshold, bool[,] FamilySignificant);
