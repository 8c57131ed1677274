using Prh.Alignment.Metrics;

namespace Prh.Alignment.Calibration;

/// <summary>
/// The permutation test of Aristotelian's <c>calibrate</c> / <c>calibrate_layers</c> (CALIBRATION.md §1.1, §2.1),
/// each statistic a small function of the observed value s and the K null values T_1..T_K:
/// <list type="bullet">
/// <item>τ: the element of rank r = ⌈(1 - α)(K + 1)⌉ (1-based, clamped to [1, K + 1]) of the K + 1 values
/// {s} ∪ null sorted ascending in float64 (<see cref="Tau"/>);</item>
/// <item>p = (1 + #{k : T_k ≥ s}) / (K + 1), a tie counting as an exceedance (<see cref="PValue"/>);</item>
/// <item>the calibrated score clip((s - τ) / max(smax - τ, 1e-12), 0, 1), or relu(s - τ) without smax (<see cref="Gate"/>);</item>
/// <item>the null's mean and population std (ddof 0) and z = (s - mean) / (std + 1e-8) (<see cref="Moments"/>, <see cref="ZScore"/>).</item>
/// </list>
/// The comparisons (τ's rank, the exceedances) run on the values as given, so a metric compared on exact
/// integers (mutual_knn's overlap counts) has exact ties; <see cref="ScoreScale"/> then maps s and τ to scores.
/// </summary>
public static class PermutationTest
{
    /// <summary>The calibrated score's floor on smax - τ (the package's 1e-12).</summary>
    public const double GateFloor = 1e-12;

    /// <summary>The z-score's epsilon (<c>utils.EPS</c>).</summary>
    public const double ZEpsilon = 1e-8;

    /// <summary>Checks K ≥ 1 and α strictly inside (0, 1), naming the field.</summary>
    public static void Validate(int count, double alpha)
    {
        if (count < 1) throw new AlignmentException(ErrorKind.ValueError, $"K (the number of permutations) must be at least 1, got {count}");
        if (!(alpha > 0 && alpha < 1)) throw new AlignmentException(ErrorKind.ValueError, $"alpha must lie strictly inside (0, 1), got {alpha}");
    }

    /// <summary>r = ⌈(1 - α)(K + 1)⌉ computed in float64 as the package does, clamped to [1, K + 1]. K &lt; 1/α - 1 gives K + 1: τ is then the largest value and every calibrated score 0.</summary>
    public static int CriticalRank(int count, double alpha) => (int)Math.Clamp(Math.Ceiling((1.0 - alpha) * (count + 1)), 1, count + 1);

    /// <summary>τ: the element of rank <see cref="CriticalRank"/> of {s} ∪ null sorted ascending (NaN sorts last, as torch.sort puts it).</summary>
    public static double Tau(ReadOnlySpan<double> nulls, double observed, double alpha)
    {
        Validate(nulls.Length, alpha);
        var values = new double[nulls.Length + 1];
        nulls.CopyTo(values);
        values[^1] = observed;
        Array.Sort(values, NaNLast);
        return values[CriticalRank(nulls.Length, alpha) - 1];
    }

    /// <summary>τ from the m = K + 2 - r largest null values alone (what a streaming pass keeps per cell): the m-th largest of them and s.</summary>
    public static double TauFromLargest(ReadOnlySpan<double> largestNulls, int count, double observed, double alpha)
    {
        int m = count + 2 - CriticalRank(count, alpha);
        var values = new double[largestNulls.Length + 1];
        largestNulls.CopyTo(values);
        values[^1] = observed;
        Array.Sort(values, NaNLast);
        return values[values.Length - m];
    }

    /// <summary>How many of the K largest values τ needs kept: K + 2 - r (≤ K + 1; the observed value is the extra one).</summary>
    public static int LargestKept(int count, double alpha) => Math.Min(count, count + 2 - CriticalRank(count, alpha));

    /// <summary>Sorts ascending with NaN after everything (torch.sort, numpy.sort).</summary>
    private static int NaNLast(double a, double b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : 1) : double.IsNaN(b) ? -1 : a.CompareTo(b);

    /// <summary>#{k : T_k ≥ s}; a NaN on either side never counts.</summary>
    public static int Exceedances(ReadOnlySpan<double> nulls, double observed)
    {
        int count = 0;
        foreach (double t in nulls) if (t >= observed) count++;
        return count;
    }

    /// <summary>p = (1 + exceedances) / (K + 1).</summary>
    public static double PValue(int exceedances, int count) => (1.0 + exceedances) / (count + 1.0);

    /// <summary>clip((s - τ) / max(smax - τ, 1e-12), 0, 1) with smax; max(s - τ, 0) without. NaN stays NaN.</summary>
    public static double Gate(double observed, double tau, double? smax) => smax is { } top
        ? Math.Clamp((observed - tau) / Math.Max(top - tau, GateFloor), 0, 1)
        : Math.Max(observed - tau, 0);

    /// <summary>The null's mean and population standard deviation (ddof 0), two passes in float64.</summary>
    public static (double Mean, double Std) Moments(ReadOnlySpan<double> nulls)
    {
        double sum = 0;
        foreach (double t in nulls) sum += t;
        double mean = sum / nulls.Length, squares = 0;
        foreach (double t in nulls) squares += (t - mean) * (t - mean);
        return (mean, Math.Sqrt(squares / nulls.Length));
    }

    /// <summary>z = (s - mean) / (std + 1e-8).</summary>
    public static double ZScore(double observed, double mean, double std) => (observed - mean) / (std + ZEpsilon);

    /// <summary>
    /// Every statistic of one test: <paramref name="observed"/> and <paramref name="nulls"/> in comparison units
    /// (counts for mutual_knn), mapped to scores by <paramref name="scale"/> for the gate, τ and the moments.
    /// </summary>
    public static Calibration Calibrate(double observed, ReadOnlySpan<double> nulls, CalibrationOptions options, ScoreScale scale)
    {
        options.Validate();
        double tau = Tau(nulls, observed, options.Alpha);
        var scores = new double[nulls.Length];
        for (int k = 0; k < scores.Length; k++) scores[k] = scale.Apply(nulls[k]);
        var (mean, std) = Moments(scores);
        return Calibration.From(scale.Apply(observed), scale.Apply(tau), Exceedances(nulls, observed), nulls.Length, mean, std, options.Smax);
    }
}

/// <summary>
/// The statistics of one calibrated score: the observed score, the calibrated (gated) score, p, τ, the
/// exceedance count, K, the null's mean and std (ddof 0) and z.
/// </summary>
public sealed record Calibration(double Observed, double Calibrated, double PValue, double Tau, int Exceedances, int PermutationCount,
    double NullMean, double NullStd, double Z)
{
    public static Calibration From(double observed, double tau, int exceedances, int count, double mean, double std, double? smax) =>
        new(observed, PermutationTest.Gate(observed, tau, smax), PermutationTest.PValue(exceedances, count), tau, exceedances, count,
            mean, std, PermutationTest.ZScore(observed, mean, std));
}

/// <summary>
/// How a metric's comparison units become scores: x / <see cref="Divisor"/>, rounded to float32 when
/// <see cref="Float32"/>. mutual_knn compares overlap counts and scores them as
/// <see cref="MutualKnn.FromOverlap"/> does, (float)(count / (k' N)); the other metrics are their own scores.
/// Monotone, so order statistics commute with it.
/// </summary>
public readonly record struct ScoreScale(double Divisor, bool Float32)
{
    public static ScoreScale Identity { get; } = new(1, false);

    public double Apply(double value) => Float32 ? (float)(value / Divisor) : value / Divisor;
}
