using System.CommandLine;
using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh matrix --x X1 X2 ... --y Y1 Y2 ... --metric NAME [--calibrate K ...]</c>: compute_alignment over two lists of
/// models; calibrated, every entry is tested with the same K permutations, and the grid gets Benjamini-Hochberg and
/// the max-statistic family-wise threshold.
/// </summary>
internal static class MatrixCommand
{
    public static Command Build()
    {
        var xs = new Option<string[]>("--x")
        {
            Description = "Row models (raw feature files)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore
        };
        var ys = new Option<string[]>("--y")
        {
            Description = "Column models (raw feature files)",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.OneOrMore
        };
        var options = new MetricOptions(defaultTopK: 10);
        var calibration = new CalibrateOptions();
        var command = new Command("matrix", "Best layer-pair score of every model pair (compute_alignment; the same list twice takes the symmetric path).") { xs, ys };
        options.AddTo(command);
        command.Options.Add(options.Quantile);
        calibration.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var spec = options.Spec(parse);
            var request = calibration.Read(parse);
            var inputs = new FeatureInputs(parse.GetValue(options.Quantile));
            string[] xPaths = parse.GetValue(xs)!, yPaths = parse.GetValue(ys)!;
            // The reference's symmetric path is taken when x_paths == y_paths.
            bool symmetric = xPaths.Select(Path.GetFullPath).SequenceEqual(yPaths.Select(Path.GetFullPath));
            var xSketches = xPaths.Select(inputs.Sketch).ToList();
            var ySketches = yPaths.Select(inputs.Sketch).ToList();
            var calibrated = request is null ? null : Calibrated(xSketches, ySketches, spec, symmetric, request);
            var result = calibrated?.Alignment.Alignment ?? AlignmentScoring.ComputeAlignment(xSketches, ySketches, spec, symmetric);
            if (parse.GetValue(options.Json))
            {
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteMatrix("scores", Json.Rows(result.Scores), Json.WriteDoubleValue);
                    w.WriteMatrix("indices", Json.Rows(result.Indices), Json.WritePairValue);
                    if (calibrated is { } c) WriteCalibration(w, request!, c);
                    w.WriteEndObject();
                }));
                return 0;
            }
            string Row(int i) => Path.GetFileNameWithoutExtension(xPaths[i]);
            string Column(int j) => Path.GetFileNameWithoutExtension(yPaths[j]);
            Console.Out.WriteLine($"{spec}{(symmetric ? " (symmetric)" : "")}");
            Console.Out.Write(Table.Render(result.Scores, Row, Column, (_, _) => false));
            if (calibrated is { } r) PrintCalibration(request!, r, Row, Column);
            return 0;
        }));
        return command;
    }

    /// <summary>A calibrated alignment: each entry's test, BH over the grid, and the family-wise threshold.</summary>
    private sealed record CalibratedMatrix(CalibratedAlignment Alignment, Calibration[,] Grid, double BhCutoff, bool[,] Significant,
        double FwerThreshold, bool[,] FamilyWise);

    private static CalibratedMatrix Calibrated(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys, MetricSpec spec, bool symmetric, CalibrationRequest request)
    {
        var options = request.Options(perCell: false);
        var alignment = CalibratedScoring.ComputeAlignment(xs, ys, spec, symmetric, request.Permutations(xs[0].SampleCount), options);
        var grid = new Calibration[alignment.Rows, alignment.Columns];
        var nulls = new List<double[]>();
        for (int i = 0; i < alignment.Rows; i++)
            for (int j = 0; j < alignment.Columns; j++)
            {
                grid[i, j] = alignment.Calibrate(i, j, request.Aggregate, options);
                nulls.Add(alignment.NullScores(i, j, request.Aggregate));
            }
        var (cutoff, significant) = request.BenjaminiHochberg(grid);
        // The family is the whole grid: draw k's maximum over every entry's null statistic (all share draw k's permutation).
        double threshold = MultipleTesting.MaxStatisticThreshold(MultipleTesting.FamilyMaxima(nulls), request.Alpha);
        var familyWise = CalibrationRequest.Select(grid, c => MultipleTesting.RejectFamilyWise(c.Observed, threshold));
        return new CalibratedMatrix(alignment, grid, cutoff, significant, threshold, familyWise);
    }

    private static void WriteCalibration(Utf8JsonWriter w, CalibrationRequest request, CalibratedMatrix c)
    {
        w.WriteStartObject("calibration");
        request.WriteSettings(w);
        CalibrationRequest.WriteStatisticMatrices(w, c.Grid);
        w.WriteDouble("bh_cutoff", c.BhCutoff);
        w.WriteMatrix("significant", Json.Rows(c.Significant), (writer, v) => writer.WriteBooleanValue(v));
        w.WriteDouble("fwer_threshold", c.FwerThreshold);
        w.WriteMatrix("fwer_significant", Json.Rows(c.FamilyWise), (writer, v) => writer.WriteBooleanValue(v));
        w.WriteEndObject();
    }

    private static void PrintCalibration(CalibrationRequest request, CalibratedMatrix c, Func<int, string> row, Func<int, string> column)
    {
        int bh = c.Significant.Cast<bool>().Count(v => v), fwer = c.FamilyWise.Cast<bool>().Count(v => v);
        Console.Out.WriteLine($"calibrated by {request.Describe()}; * in the calibrated and p_value tables marks the entries " +
            $"Benjamini-Hochberg at q = {Json.Number(request.Fdr)} finds significant over the {c.Grid.Length} entries: {(bh == 0 ? "none" : $"{bh}, p ≤ {Json.Number(c.BhCutoff)}")}");
        foreach (var (name, value) in CalibrationRequest.Statistics)
        {
            bool marked = name is "calibrated" or "p_value";
            Console.Out.WriteLine(name);
            Console.Out.Write(Table.Render(CalibrationRequest.Select(c.Grid, value), row, column, (i, j) => marked && c.Significant[i, j]));
        }
        Console.Out.WriteLine($"family-wise (max-statistic) threshold at α = {Json.Number(request.Alpha)}: {Json.Number(c.FwerThreshold)}; " +
            $"observed above it: {(fwer == 0 ? "none" : string.Join(", ", Cells(c.FamilyWise).Select(p => $"({row(p.I)}, {column(p.J)})")))}");
    }

    private static IEnumerable<(int I, int J)> Cells(bool[,] mask)
    {
        for (int i = 0; i < mask.GetLength(0); i++)
            for (int j = 0; j < mask.GetLength(1); j++)
                if (mask[i, j]) yield return (i, j);
    }
}
