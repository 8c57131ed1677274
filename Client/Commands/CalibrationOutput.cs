using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Commands;

/// <summary>How calibrations are written (JSON) and printed (tables), by <c>prh score</c>, <c>prh matrix</c> and <c>prh sweep results</c> alike.</summary>
internal static class CalibrationOutput
{
    /// <summary>The settings, as the sweep spec's calibration block names them.</summary>
    public static void WriteSettings(Utf8JsonWriter w, CalibrationSettings settings)
    {
        w.WriteNumber("permutations", settings.Permutations);
        w.WriteDouble("alpha", settings.Alpha);
        if (settings.Seed is { } seed) w.WriteNumber("seed", seed);
        else w.WriteNull("seed");
        w.WriteString("permutations_file", settings.PermutationsFile);
        w.WriteString("aggregate", settings.Aggregate.Name);
        w.WriteDouble("fdr", settings.Fdr);
    }

    /// <summary>One test's statistics as JSON properties (scores; exceedances in the metric's comparison units).</summary>
    public static void WriteStatistics(Utf8JsonWriter w, Calibration c)
    {
        foreach (var (name, value) in Statistics) w.WriteDouble(name, value(c));
        w.WriteNumber("exceedances", c.Exceedances);
    }

    /// <summary>A grid of tests as one matrix per statistic (rows of cells), under the names <see cref="WriteStatistics"/> uses.</summary>
    public static void WriteStatisticMatrices(Utf8JsonWriter w, Calibration[,] grid)
    {
        foreach (var (name, value) in Statistics)
            w.WriteMatrix(name, Json.Rows(Select(grid, value)), Json.WriteDoubleValue);
        w.WriteMatrix("exceedances", Json.Rows(Select(grid, c => c.Exceedances)), (writer, v) => writer.WriteNumberValue(v));
    }

    /// <summary>A calibrated matrix's "calibration" object: the settings, every statistic's matrix, BH and the family-wise threshold.</summary>
    public static void WriteMatrix(Utf8JsonWriter w, MatrixCalibration c)
    {
        w.WriteStartObject("calibration");
        WriteSettings(w, c.Settings);
        WriteStatisticMatrices(w, c.Tests);
        w.WriteDouble("bh_cutoff", c.BhCutoff);
        w.WriteMatrix("significant", Json.Rows(c.Significant), (writer, v) => writer.WriteBooleanValue(v));
        w.WriteDouble("fwer_threshold", c.FwerThreshold);
        w.WriteMatrix("fwer_significant", Json.Rows(c.FamilySignificant), (writer, v) => writer.WriteBooleanValue(v));
        w.WriteEndObject();
    }

    /// <summary>A calibrated matrix as tables, one per statistic, BH's significant entries marked *, and the family-wise result.</summary>
    public static void PrintMatrix(TextWriter output, MatrixCalibration c, Func<int, string> row, Func<int, string> column)
    {
        int bh = c.Significant.Cast<bool>().Count(v => v), fwer = c.FamilySignificant.Cast<bool>().Count(v => v);
        output.WriteLine($"calibrated by {c.Settings.Describe()}; * in the calibrated and p_value tables marks the entries " +
            $"Benjamini-Hochberg at q = {Json.Number(c.Settings.Fdr)} finds significant over the {c.Tests.Length} entries: {(bh == 0 ? "none" : $"{bh}, p ≤ {Json.Number(c.BhCutoff)}")}");
        foreach (var (name, value) in Statistics)
        {
            bool marked = name is "calibrated" or "p_value";
            output.WriteLine(name);
            output.Write(Table.Render(Select(c.Tests, value), row, column, (i, j) => marked && c.Significant[i, j]));
        }
        output.WriteLine($"family-wise (max-statistic) threshold at α = {Json.Number(c.Settings.Alpha)}: {Json.Number(c.FwerThreshold)}; " +
            $"observed above it: {(fwer == 0 ? "none" : string.Join(", ", Cells(c.FamilySignificant).Select(p => $"({row(p.I)}, {column(p.J)})")))}");
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

    /// <summary>BH at <paramref name="fdr"/> over a grid's p-values taken row-major: the cutoff and which cells it rejects.</summary>
    public static (double Cutoff, bool[,] Significant) BenjaminiHochberg(Calibration[,] grid, double fdr)
    {
        int rows = grid.GetLength(0), columns = grid.GetLength(1);
        var (cutoff, reject) = MultipleTesting.BenjaminiHochberg(Select(grid, c => c.PValue).Cast<double>().ToArray(), fdr);
        var significant = new bool[rows, columns];
        for (int c = 0; c < reject.Length; c++) significant[c / columns, c % columns] = reject[c];
        return (cutoff, significant);
    }

    private static IEnumerable<(int I, int J)> Cells(bool[,] mask)
    {
        for (int i = 0; i < mask.GetLength(0); i++)
            for (int j = 0; j < mask.GetLength(1); j++)
                if (mask[i, j]) yield return (i, j);
    }
}
