using Prh.Alignment.Scoring;

namespace Prh.Alignment.Calibration;

/// <summary>
/// One model pair of a calibrated tile (block model indices <see cref="First"/>, <see cref="Second"/>): the
/// observed layer matrix and best pair (<see cref="Scores"/>, in scores), and per aggregate the observed
/// statistic and its K null values (comparison units: mutual_knn's overlap counts, see <see cref="Scale"/>),
/// plus, when asked for, the per-cell null counts. Everything the statistics need, and no more.
/// </summary>
public sealed class CalibratedTilePair(int first, int second, LayerScores scores, ScoreScale scale, IReadOnlyList<LayerAggregate> aggregates,
    IReadOnlyList<double> observedAggregates, IReadOnlyList<double[]> nullAggregates, CellNulls? cells)
{
    public int First { get; } = first;
    public int Second { get; } = second;
    public LayerScores Scores { get; } = scores;
    public ScoreScale Scale { get; } = scale;
    public IReadOnlyList<LayerAggregate> Aggregates { get; } = aggregates;

    /// <summary>T_obs per aggregate, comparison units.</summary>
    public IReadOnlyList<double> ObservedAggregates { get; } = observedAggregates;

    /// <summary>T_1..T_K per aggregate, comparison units.</summary>
    public IReadOnlyList<double[]> NullAggregates { get; } = nullAggregates;

    /// <summary>The per-layer-pair nulls' running counts (null unless <see cref="CalibrationOptions.PerCell"/>).</summary>
    public CellNulls? Cells { get; } = cells;

    public int PermutationCount => NullAggregates[0].Length;

    /// <summary>The statistics of aggregate <paramref name="aggregate"/> (an index into <see cref="Aggregates"/>).</summary>
    public Calibration Calibrate(int aggregate, CalibrationOptions options) =>
        PermutationTest.Calibrate(ObservedAggregates[aggregate], NullAggregates[aggregate], options, Scale);

    /// <summary>Aggregate <paramref name="aggregate"/>'s null values as scores (for a family maximum across pairs).</summary>
    public double[] NullScores(int aggregate) => NullAggregates[aggregate].Select(Scale.Apply).ToArray();

    /// <summary>Each layer pair against its own null (the paper's "naive" per-pair calibration): rows x columns statistics.</summary>
    public Calibration[,] CalibrateCells(CalibrationOptions options) =>
        (Cells ?? throw new InvalidOperationException("the pass kept no per-cell nulls: set CalibrationOptions.PerCell")).Calibrate(options);
}

/// <summary>
/// Per-cell nulls of one model pair as running counts, K draws added one at a time: for each cell the
/// exceedances #{k : T_k ≥ s} (compared in comparison units, exact for counts), the running mean and squared
/// deviations of the null scores (Welford 1962, population variance: ddof 0), and the K + 2 - r largest null
/// values, which is all τ needs (<see cref="PermutationTest.TauFromLargest"/>). O(cells (K + 2 - r)) memory.
/// </summary>
public sealed class CellNulls
{
    private readonly double[] _observed, _mean, _squares, _largest;
    private readonly int[] _exceedances, _filled;
    private readonly int _kept, _count;
    private readonly double _alpha;
    private readonly ScoreScale _scale;
    private int _added;

    public CellNulls(double[] observed, int rows, int columns, int count, double alpha, ScoreScale scale)
    {
        (Rows, Columns, _observed, _count, _alpha, _scale) = (rows, columns, observed, count, alpha, scale);
        _kept = PermutationTest.LargestKept(count, alpha);
        _mean = new double[observed.Length];
        _squares = new double[observed.Length];
        _largest = new double[observed.Length * _kept];
        _exceedances = new int[observed.Length];
        _filled = new int[observed.Length];
    }

    public int Rows { get; }
    public int Columns { get; }

    /// <summary>Adds one draw's layer matrix (comparison units, row-major).</summary>
    public void Add(ReadOnlySpan<double> draw)
    {
        if (_added == _count) throw new InvalidOperationException($"all {_count} draws were added already");
        _added++;
        for (int c = 0; c < _observed.Length; c++)
        {
            double t = draw[c];
            if (t >= _observed[c]) _exceedances[c]++;
            double score = _scale.Apply(t), delta = score - _mean[c];
            _mean[c] += delta / _added;
            _squares[c] += delta * (score - _mean[c]);
            Keep(_largest.AsSpan(c * _kept, _kept), ref _filled[c], t);
        }
    }

    /// <summary>Keeps the largest values in descending order (NaN first, as the largest: torch.sort puts it last ascending).</summary>
    private static void Keep(Span<double> largest, ref int filled, double value)
    {
        if (filled == largest.Length && !Above(value, largest[^1])) return;
        int p = filled < largest.Length ? filled++ : largest.Length - 1;
        while (p > 0 && Above(value, largest[p - 1]))
        {
            largest[p] = largest[p - 1];
            p--;
        }
        largest[p] = value;
    }

    private static bool Above(double a, double b) => double.IsNaN(a) ? !double.IsNaN(b) : a > b;

    public Calibration[,] Calibrate(CalibrationOptions options)
    {
        if (_added != _count) throw new InvalidOperationException($"{_added} of {_count} draws were added");
        if (options.Alpha != _alpha) throw new ArgumentException($"the cells kept what alpha = {_alpha} needs, not alpha = {options.Alpha}");
        var result = new Calibration[Rows, Columns];
        for (int c = 0; c < _observed.Length; c++)
        {
            double tau = PermutationTest.TauFromLargest(_largest.AsSpan(c * _kept, _filled[c]), _count, _observed[c], _alpha);
            result[c / Columns, c % Columns] = Calibration.From(_scale.Apply(_observed[c]), _scale.Apply(tau), _exceedances[c], _count,
                _mean[c], Math.Sqrt(_squares[c] / _count), options.Smax);
        }
        return result;
    }
}
