using System.CommandLine;
using Prh.Alignment.Scoring;

namespace Prh.Client.Commands;

/// <summary><c>prh score X Y --metric NAME</c>: compute_score(prep(X), prep(Y)) on raw N x L x D features.</summary>
internal static class ScoreCommand
{
    public static Command Build()
    {
        var x = new Argument<string>("X") { Description = "First model's raw features (N x L x D, or layers.i tensors)" };
        var y = new Argument<string>("Y") { Description = "Second model's raw features" };
        var options = new MetricOptions(defaultTopK: 10);
        var command = new Command("score", "Clamp and normalise two models' features, score every layer pair, and pick the best pair (compute_score).") { x, y };
        options.AddTo(command);
        command.Options.Add(options.Quantile);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var spec = options.Spec(parse);
            var inputs = new FeatureInputs(parse.GetValue(options.Quantile));
            string pathX = parse.GetValue(x)!, pathY = parse.GetValue(y)!;
            var result = AlignmentScoring.ComputeScore(inputs.Sketch(pathX), inputs.Sketch(pathY), spec);
            if (parse.GetValue(options.Json))
            {
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteDouble("best_score", result.BestScore);
                    w.WritePropertyName("best_indices");
                    w.WritePairValue(result.BestIndices);
                    w.WriteMatrix("layer_scores", Json.Rows(result.Scores), Json.WriteDoubleValue);
                    w.WriteEndObject();
                }));
                return 0;
            }
            Console.Out.WriteLine($"{spec}: {pathX} (rows) x {pathY} (columns)");
            Console.Out.Write(Table.Render(result.Scores, i => $"x{i}", j => $"y{j}", (i, j) => result.BestIndices == (i, j)));
            Console.Out.WriteLine($"best score {Json.Number(result.BestScore)} at {(result.BestIndices is { } b ? $"(x{b.X}, y{b.Y})" : "none (no positive score)")}");
            return 0;
        }));
        return command;
    }
}
