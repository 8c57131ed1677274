using System.CommandLine;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;
using Prh.Contracts.Sweeps;

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
            var calibrated = request is null ? ((AlignmentMatrix, MatrixCalibration)?)null : Calibrated(xSketches, ySketches, spec, symmetric, request);
            var result = calibrated?.Item1 ?? AlignmentScoring.ComputeAlignment(xSketches, ySketches, spec, symmetric);
            if (parse.GetValue(options.Json))
            {
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteMatrix("scores", Json.Rows(result.Scores), Json.WriteDoubleValue);
                    w.WriteMatrix("indices", Json.Rows(result.Indices), Json.WritePairValue);
                    if (calibrated is { } c) CalibrationOutput.WriteMatrix(w, c.Item2);
                    w.WriteEndObject();
                }));
                return 0;
            }
            string Row(int i) => Path.GetFileNameWithoutExtension(xPaths[i]);
            string Column(int j) => Path.GetFileNameWithoutExtension(yPaths[j]);
            Console.Out.WriteLine($"{spec}{(symmetric ? " (symmetric)" : "")}");
            Console.Out.Write(Table.Render(result.Scores, Row, Column, (_, _) => false));
            if (calibrated is { } r) CalibrationOutput.PrintMatrix(Console.Out, r.Item2, Row, Column);
            return 0;
        }));
        return command;
    }

    /// <summary>A calibrated alignment: compute_alignment's answer, each entry's test, BH over the grid, and the family-wise threshold.</summary>
    private static (AlignmentMatrix Alignment, MatrixCalibration Calibration) Calibrated(IReadOnlyList<ModelSketch> xs, IReadOnlyList<ModelSketch> ys,
        MetricSpec spec, bool symmetric, CalibrationSettings settings)
    {
        var options = settings.Options();
        var alignment = CalibratedScoring.ComputeAlignment(xs, ys, spec, symmetric, settings.Draw(xs[0].SampleCount, "--permutations"), options);
        var grid = new Calibration[alignment.Rows, alignment.Columns];
        var nulls = new List<double[]>();
        for (int i = 0; i < alignment.Rows; i++)
            for (int j = 0; j < alignment.Columns; j++)
            {
                grid[i, j] = alignment.Calibrate(i, j, settings.Aggregate, options);
                nulls.Add(alignment.NullScores(i, j, settings.Aggregate));
            }
        // The family is the whole grid: draw k's maximum over every entry's null statistic (all share draw k's permutation).
        return (alignment.Alignment, MatrixCalibration.Of(settings, grid, nulls));
    }
}
