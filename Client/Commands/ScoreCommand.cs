using System.CommandLine;
using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh score X Y --metric NAME [--calibrate K ...]</c>: compute_score(prep(X), prep(Y)) on raw N x L x D features;
/// calibrated, Y's samples are permuted (Aristotelian's calibrate_layers(X, Y)) and every layer pair is also set
/// against its own null, with Benjamini-Hochberg over the layer pairs.
/// </summary>
internal static class ScoreCommand
{
    public static Command Build()
    {
        var x = new Argument<string>("X") { Description = "First model's raw features (N x L x D, or layers.i tensors)" };
        var y = new Argument<string>("Y") { Description = "Second model's raw features" };
        var options = new MetricOptions(defaultTopK: 10);
        var calibration = new CalibrateOptions();
        var command = new Command("score", "Clamp and normalise two models' features, score every layer pair, and pick the best pair (compute_score).") { x, y };
        options.AddTo(command);
        command.Options.Add(options.Quantile);
        calibration.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var spec = options.Spec(parse);
            var request = calibration.Read(parse);
            var inputs = new FeatureInputs(parse.GetValue(options.Quantile));
            string pathX = parse.GetValue(x)!, pathY = parse.GetValue(y)!;
            ModelSketch sketchX = inputs.Sketch(pathX), sketchY = inputs.Sketch(pathY);
            var calibrated = request is null ? null : Calibrated(sketchX, sketchY, spec, request);
            var result = calibrated?.Pair.Scores ?? AlignmentScoring.ComputeScore(sketchX, sketchY, spec);
            if (parse.GetValue(options.Json))
            {
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteDouble("best_score", result.BestScore);
                    w.WritePropertyName("best_indices");
                    w.WritePairValue(result.BestIndices);
                    w.WriteMatrix("layer_scores", Json.Rows(result.Scores), Json.WriteDoubleValue);
                    if (calibrated is { } c) WriteCalibration(w, request!, c);
                    w.WriteEndObject();
                }));
                return 0;
            }
            Console.Out.WriteLine($"{spec}: {pathX} (rows) x {pathY} (columns)");
            Console.Out.Write(Table.Render(result.Scores, i => $"x{i}", j => $"y{j}", (i, j) => result.BestIndices == (i, j)));
            Console.Out.WriteLine($"best score {Json.Number(result.BestScore)} at {(result.BestIndices is { } b ? $"(x{b.X}, y{b.Y})" : "none (no positive score)")}");
            if (calibrated is { } r) PrintCalibration(request!, r);
            return 0;
        }));
        return command;
    }

    /// <summary>One calibrated pass: the model pair's aggregate test and every layer pair's own test, BH over the layer pairs.</summary>
    private sealed record CalibratedScore(CalibratedTilePair Pair, Calibration Statistics, Calibration[,] Cells, double BhCutoff, bool[,] Significant);

    private static CalibratedScore Calibrated(ModelSketch x, ModelSketch y, MetricSpec spec, CalibrationSettings request)
    {
        var options = request.Options(perCell: true);
        var pair = CalibratedScoring.ComputeScore(x, y, spec, request.Draw(x.SampleCount, "--permutations"), options);
        var cells = pair.CalibrateCells(options);
        var (cutoff, significant) = CalibrationOutput.BenjaminiHochberg(cells, request.Fdr);
        return new CalibratedScore(pair, pair.Calibrate(0, options), cells, cutoff, significant);
    }

    private static void WriteCalibration(Utf8JsonWriter w, CalibrationSettings request, CalibratedScore c)
    {
        w.WriteStartObject("calibration");
        CalibrationOutput.WriteSettings(w, request);
        CalibrationOutput.WriteStatistics(w, c.Statistics);
        w.WriteStartObject("layer_pairs");
        CalibrationOutput.WriteStatisticMatrices(w, c.Cells);
        w.WriteDouble("bh_cutoff", c.BhCutoff);
        w.WriteMatrix("significant", Json.Rows(c.Significant), (writer, v) => writer.WriteBooleanValue(v));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void PrintCalibration(CalibrationSettings request, CalibratedScore c)
    {
        var s = c.Statistics;
        Console.Out.WriteLine($"calibrated by {request.Describe()}:");
        Console.Out.WriteLine($"  observed {Json.Number(s.Observed)}  τ {Json.Number(s.Tau)}  p {Json.Number(s.PValue)} ({s.Exceedances} of {s.PermutationCount} null values ≥ observed)" +
            $"  calibrated {Json.Number(s.Calibrated)}  null mean {Json.Number(s.NullMean)}  null std {Json.Number(s.NullStd)}  z {Json.Number(s.Z)}");
        int count = c.Significant.Cast<bool>().Count(v => v);
        Console.Out.WriteLine($"each layer pair against its own null: calibrated scores (* significant by Benjamini-Hochberg at q = {Json.Number(request.Fdr)} " +
            $"over the {c.Cells.Length} layer pairs: {(count == 0 ? "none" : $"{count}, p ≤ {Json.Number(c.BhCutoff)}")})");
        Console.Out.Write(Table.Render(CalibrationOutput.Select(c.Cells, v => v.Calibrated), i => $"x{i}", j => $"y{j}", (i, j) => c.Significant[i, j]));
        Console.Out.WriteLine("layer pairs' p-values");
        Console.Out.Write(Table.Render(CalibrationOutput.Select(c.Cells, v => v.PValue), i => $"x{i}", j => $"y{j}", (i, j) => c.Significant[i, j]));
    }
}
