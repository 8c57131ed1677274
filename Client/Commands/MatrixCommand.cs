using System.CommandLine;
using Prh.Alignment.Scoring;

namespace Prh.Client.Commands;

/// <summary><c>prh matrix --x X1 X2 ... --y Y1 Y2 ... --metric NAME</c>: compute_alignment over two lists of models.</summary>
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
        var command = new Command("matrix", "Best layer-pair score of every model pair (compute_alignment; the same list twice takes the symmetric path).") { xs, ys };
        options.AddTo(command);
        command.Options.Add(options.Quantile);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var spec = options.Spec(parse);
            var inputs = new FeatureInputs(parse.GetValue(options.Quantile));
            string[] xPaths = parse.GetValue(xs)!, yPaths = parse.GetValue(ys)!;
            // The reference's symmetric path is taken when x_paths == y_paths.
            bool symmetric = xPaths.Select(Path.GetFullPath).SequenceEqual(yPaths.Select(Path.GetFullPath));
            var result = AlignmentScoring.ComputeAlignment(
                xPaths.Select(inputs.Sketch).ToList(), yPaths.Select(inputs.Sketch).ToList(), spec, symmetric);
            if (parse.GetValue(options.Json))
            {
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteMatrix("scores", Json.Rows(result.Scores), Json.WriteDoubleValue);
                    w.WriteMatrix("indices", Json.Rows(result.Indices), Json.WritePairValue);
                    w.WriteEndObject();
                }));
                return 0;
            }
            Console.Out.WriteLine($"{spec}{(symmetric ? " (symmetric)" : "")}");
            Console.Out.Write(Table.Render(result.Scores, i => Path.GetFileNameWithoutExtension(xPaths[i]),
                j => Path.GetFileNameWithoutExtension(yPaths[j]), (_, _) => false));
            return 0;
        }));
        return command;
    }
}
