using System.Globalization;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Calibration;

/// <summary>How a model pair's layer x layer matrix S becomes one statistic T (CALIBRATION.md §2.4).</summary>
public enum AggregateKind
{
    /// <summary><c>agg_max</c>: max S, the layer search the PRH numbers use (the default).</summary>
    Max,
    /// <summary><c>calibrate_layers(agg="mean")</c>: the mean of S.</summary>
    Mean,
    /// <summary><c>agg_rowmax_mean</c>: mean over first-argument layers of the max over second-argument layers.</summary>
    RowMaxMean,
    /// <summary><c>agg_colmax_mean</c>: mean over second-argument layers of the max over first-argument layers.</summary>
    ColMaxMean,
    /// <summary><c>agg_topk_mean(k)</c>: mean of the k largest entries, k capped at LA·LB.</summary>
    TopKMean,
    /// <summary><c>agg_hungarian_match_mean</c>: mean of the min(LA, LB) entries of the maximum-weight matching.</summary>
    Hungarian,
}

/// <summary>
/// One layer aggregate. Every aggregate is a mean of selected entries (max: one entry), so it is positively
/// homogeneous, T(cS) = c T(S): mutual_knn is aggregated on its integer overlap counts (sums of integers are
/// exact in float64) and only then scaled to a score, which keeps ties between draws exact. Any NaN in S gives
/// NaN (torch's max and mean propagate it; scipy refuses it). Sums run in float64, row-major.
/// </summary>
public sealed record LayerAggregate(AggregateKind Kind, int TopK = 0)
{
    public static LayerAggregate Max { get; } = new(AggregateKind.Max);
    public static LayerAggregate Mean { get; } = new(AggregateKind.Mean);
    public static LayerAggregate RowMaxMean { get; } = new(AggregateKind.RowMaxMean);
    public static LayerAggregate ColMaxMean { get; } = new(AggregateKind.ColMaxMean);
    public static LayerAggregate Hungarian { get; } = new(AggregateKind.Hungarian);

    public static LayerAggregate TopKMean(int k) => k >= 1 ? new(AggregateKind.TopKMean, k)
        : throw new AlignmentException(ErrorKind.ValueError, $"aggregate topk_mean: k must be at least 1, got {k}");

    /// <summary>max, mean, rowmax_mean, colmax_mean, topk_mean:K, hungarian.</summary>
    public string Name => Kind switch
    {
        AggregateKind.Max => "max",
        AggregateKind.Mean => "mean",
        AggregateKind.RowMaxMean => "rowmax_mean",
        AggregateKind.ColMaxMean => "colmax_mean",
        AggregateKind.TopKMean => $"topk_mean:{TopK}",
        _ => "hungarian",
    };

    public override string ToString() => Name;

    /// <summary>
    /// Reads <see cref="Name"/> back (also row_max_mean and col_max_mean, Aristotelian's spellings); an unknown name, a
    /// topk_mean without its k or a bad k is refused naming the field <c>aggregate</c>.
    /// </summary>
    public static LayerAggregate Parse(string name)
    {
        if (name == "topk_mean") throw new AlignmentException(ErrorKind.ValueError, "aggregate 'topk_mean' needs its k: topk_mean:K");
        if (name.StartsWith("topk_mean:", StringComparison.Ordinal))
            return int.TryParse(name["topk_mean:".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out int k) ? TopKMean(k)
                : throw new AlignmentException(ErrorKind.ValueError, $"aggregate '{name}': topk_mean:K needs a positive integer K");
        return name switch
        {
            "max" => Max,
            "mean" => Mean,
            "rowmax_mean" or "row_max_mean" => RowMaxMean,
            "colmax_mean" or "col_max_mean" => ColMaxMean,
            "hungarian" => Hungarian,
            _ => throw new AlignmentException(ErrorKind.ValueError,
                $"aggregate '{name}' is not one of max, mean, rowmax_mean, colmax_mean, topk_mean:K, hungarian"),
        };
    }

    /// <summary>The aggregate of the transposed matrix: T'(S) = T(Sᵀ) (rowmax_mean and colmax_mean swap, the others are their own).</summary>
    public LayerAggregate Transposed => Kind switch
    {
        AggregateKind.RowMaxMean => ColMaxMean,
        AggregateKind.ColMaxMean => RowMaxMean,
        _ => this,
    };

    /// <summary>T(S) for the row-major <paramref name="rows"/> x <paramref name="columns"/> matrix <paramref name="s"/>.</summary>
    public double Apply(ReadOnlySpan<double> s, int rows, int columns, AggregateScratch scratch)
    {
        s = s[..(rows * columns)];
        switch (Kind)
        {
            case AggregateKind.Max:
                return MaxOf(s);
            case AggregateKind.Mean:
                return SumOf(s) / s.Length;
            case AggregateKind.RowMaxMean:
            {
                // (1/LA) Σ_a max_b S[a, b]
                double sum = 0;
                for (int a = 0; a < rows; a++) sum += MaxOf(s.Slice(a * columns, columns));
                return sum / rows;
            }
            case AggregateKind.ColMaxMean:
            {
                // (1/LB) Σ_b max_a S[a, b]
                double sum = 0;
                for (int b = 0; b < columns; b++)
                {
                    double best = double.NegativeInfinity;
                    for (int a = 0; a < rows; a++)
                    {
                        double v = s[a * columns + b];
                        if (double.IsNaN(v)) return double.NaN;
                        if (v > best) best = v;
                    }
                    sum += best;
                }
                return sum / columns;
            }
            case AggregateKind.TopKMean:
            {
                // (1/k') Σ of the k' = min(k, LA·LB) largest entries, added largest first
                if (HasNaN(s)) return double.NaN;
                var sorted = scratch.Values(s.Length);
                s.CopyTo(sorted);
                sorted.Sort();
                int k = Math.Min(TopK, s.Length);
                double sum = 0;
                for (int t = 0; t < k; t++) sum += sorted[s.Length - 1 - t];
                return sum / k;
            }
            default:
            {
                // (1/min(LA, LB)) Σ of the maximum-weight matching's entries
                var (sum, size) = scratch.Assignment.MaximumWeight(s, rows, columns);
                return sum / size;
            }
        }
    }

    private static double MaxOf(ReadOnlySpan<double> s)
    {
        double best = double.NegativeInfinity;
        foreach (double v in s)
        {
            if (double.IsNaN(v)) return double.NaN;
            if (v > best) best = v;
        }
        return best;
    }

    private static double SumOf(ReadOnlySpan<double> s)
    {
        double sum = 0;
        foreach (double v in s) sum += v;
        return sum;
    }

    private static bool HasNaN(ReadOnlySpan<double> s)
    {
        foreach (double v in s) if (double.IsNaN(v)) return true;
        return false;
    }
}

/// <summary>Buffers one thread reuses for every aggregate it takes (no allocation per matrix).</summary>
public sealed class AggregateScratch
{
    private double[] _values = [];

    public Assignment Assignment { get; } = new();

    internal Span<double> Values(int length)
    {
        if (_values.Length < length) _values = new double[length];
        return _values.AsSpan(0, length);
    }
}
