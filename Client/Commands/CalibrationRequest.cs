using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;

namespace Prh.Client.Commands;

/// <summary>
/// A checked <c>--calibrate</c> request: K draws at level <see cref="Alpha"/>, seeded (<see cref="Seed"/>) or the first K
/// rows of a recorded file (<see cref="PermutationsFile"/>), the null of <see cref="Aggregate"/>, and BH at <see cref="Fdr"/>.
/// </summary>
internal sealed record CalibrationRequest(int Count, double Alpha, ulong? Seed, string? PermutationsFile, LayerAggregate Aggregate, double Fdr)
{
    /// <summary>The pass's options: α and the one aggregate, with the per-layer-pair counts when <paramref name="perCell"/>.</summary>
    public CalibrationOptions Options(bool perCell) => new() { Alpha = Alpha, Aggregates = [Aggregate], PerCell = perCell };

    /// <summary>
    /// The K permutations of <paramref name="sampleCount"/> samples. A recorded file is refused, naming the flag and the
    /// file, when it is missing, is not a (K', N) integer array of permutations, permutes another N, or holds fewer than K rows.
    /// </summary>
    public SamplePermutations Permutations(int sampleCount)
    {
        if (PermutationsFile is not { } file) return SamplePermutations.Seeded(Seed!.Value, Count, sampleCount);
        if (!File.Exists(file)) throw new FileNotFoundException($"--permutations {file}: no such file");
        try
        {
            var recorded = SamplePermutations.Load(file);
            recorded.CheckSampleCount(sampleCount);
            if (recorded.Count < Count)
                throw new AlignmentException(ErrorKind.ValueError, $"{file}: holds {recorded.Count} permutations, --calibrate asks for {Count}");
            return recorded.Take(Count);
        }
        catch (AlignmentException e)
        {
            string message = e.Message.StartsWith(file, StringComparison.Ordinal) ? e.Message : $"{file}: {e.Message}";
            throw new AlignmentException(e.Kind, $"--permutations {message}");
        }
    }

    /// <summary>One line saying what was drawn: "K = 200 seeded permutations (seed 0), α = 0.05, aggregate max".</summary>
    public string Describe() =>
        $"K = {Count} {(PermutationsFile is { } f ? $"recorded permutations ({f})" : $"seeded permutations (seed {Seed})")}, α = {Json.Number(Alpha)}, aggregate {Aggregate}";

    /// <summary>The settings, as the sweep spec's calibration block names them.</summary>
    public void WriteSettings(Utf8JsonWriter w)
    {
        w.WriteNumber("permutations", Count);
        w.WriteDouble("alpha", Alpha);
        if (Seed is { } seed) w.WriteNumber("seed", seed);
        else w.WriteNull("seed");
        w.WriteString("permutations_file", PermutationsFile);
        w.WriteString("aggregate", Aggregate.Name);
        w.WriteDouble("fdr", Fdr);
    }

    /// <summary>One test's statistics as JSON properties (scores; exceedances in the metric's comparison units).</summary>
    public static void WriteStatistics(Utf8JsonWriter w, Calibration c)
    {
        w.WriteDouble("observed", c.Observed);
        w.WriteDouble("tau", c.Tau);
        w.WriteDouble("p_value", c.PValue);
        w.WriteDouble("calibrated", c.Calibrated);
        w.WriteDouble("null_mean", c.NullMean);
        w.WriteDouble("null_std", c.NullStd);
        w.WriteDouble("z", c.Z);
        w.WriteNumber("exceedances", c.Exceedances);
    }

    /// <summary>A grid of tests as one matrix per statistic (rows of cells), under the names <see cref="WriteStatistics"/> uses.</summary>
    public static void WriteStatisticMatrices(Utf8JsonWriter w, Calibration[,] grid)
    {
        foreach (var (name, value) in Statistics)
            w.WriteMatrix(name, Json.Rows(Select(grid, value)), Json.WriteDoubleValue);
        w.WriteMatrix("exceedances", Json.Rows(Select(grid, c => c.Exceedances)), (writer, v) => writer.WriteNumberValue(v));
    }

    /// <summary>The statistics a grid is printed and written as, in order.</summary>
    public static IReadOnlyList<(string Name, Func<Calibration, double> Value)> Statistics { get; } =
    [
        ("observed", c => c.Observed),
        ("tau", c => c.Tau),
        ("p_value", c => c.PValue),
        ("calibrated", c => c.Calibrated),
        ("null_mean", c => c.NullMean),
        ("null_std", c => c.NullStd),
        ("z", c => c.Z),
    ];

    public static T[,] Select<T>(Calibration[,] grid, Func<Calibration, T> value)
    {
        var result = new T[grid.GetLength(0), grid.GetLength(1)];
        for (int i = 0; i < grid.GetLength(0); i++)
            for (int j = 0; j < grid.GetLength(1); j++) result[i, j] = value(grid[i, j]);
        return result;
    }

    /// <summary>BH at <see cref="Fdr"/> over a grid's p-values taken row-major: the cutoff and which cells it rejects.</summary>
    public (double Cutoff, bool[,] Significant) BenjaminiHochberg(Calibration[,] grid)
    {
        int rows = grid.GetLength(0), columns = grid.GetLength(1);
        var (cutoff, reject) = MultipleTesting.BenjaminiHochberg(Select(grid, c => c.PValue).Cast<double>().ToArray(), Fdr);
        var significant = new bool[rows, columns];
        for (int c = 0; c < reject.Length; c++) significant[c / columns, c % columns] = reject[c];
        return (cutoff, significant);
    }
}
