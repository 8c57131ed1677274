using System.CommandLine;
using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh metric A B --metric NAME ...</c>: one metric on two N x D matrices used as given, and
/// <c>prh metric --batch FILE.jsonl</c>: many requests, each file's sketch shared by all of them.
/// </summary>
internal static class MetricCommand
{
    public static Command Build()
    {
        var a = new Argument<string?>("A") { Description = "First N x D feature file (.npy or .safetensors)", Arity = ArgumentArity.ZeroOrOne };
        var b = new Argument<string?>("B") { Description = "Second N x D feature file", Arity = ArgumentArity.ZeroOrOne };
        var batch = new Option<string?>("--batch") { Description = "JSON Lines requests {\"a\", \"b\", \"metric\", \"kwargs\"}; one result line each" };
        var options = new MetricOptions(defaultTopK: null);
        options.Metric.Required = false;
        var command = new Command("metric", "Score two N x D matrices with one metric, as the reference's metric functions (no clamp, no normalisation).")
        {
            a, b, batch,
        };
        options.AddTo(command);
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            if (parse.GetValue(batch) is { } batchFile)
                return RunBatch(batchFile, Console.Out);
            string? pathA = parse.GetValue(a), pathB = parse.GetValue(b);
            if (pathA is null || pathB is null || parse.GetValue(options.Metric) is null)
                throw new AlignmentException(ErrorKind.TypeError, "prh metric needs A, B and --metric (or --batch FILE)");
            var spec = options.Spec(parse);
            var inputs = new FeatureInputs(quantile: null);
            double value = AlignmentScoring.ScoreOne(inputs.Matrix(pathA), inputs.Matrix(pathB), spec);
            if (parse.GetValue(options.Json))
                Console.Out.WriteLine(Json.Document(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("metric", spec.Name);
                    w.WriteDouble("value", value);
                    w.WriteEndObject();
                }));
            else
                Console.Out.WriteLine($"{spec}  {pathA} vs {pathB}\n{Json.Number(value)}");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// One output line per non-blank input line, in order: <c>{"value": V}</c> or
    /// <c>{"error": MESSAGE, "type": KIND}</c>. A bad request never stops the batch.
    /// </summary>
    internal static int RunBatch(string batchFile, TextWriter output)
    {
        var inputs = new FeatureInputs(quantile: null);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(batchFile))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            Action<Utf8JsonWriter> result;
            try
            {
                var (pathA, pathB, spec) = ParseRequest(line, batchFile, lineNumber);
                double value = AlignmentScoring.ScoreOne(inputs.Matrix(pathA), inputs.Matrix(pathB), spec);
                result = w => w.WriteDouble("value", value);
            }
            catch (Exception e) when (CommandErrors.Classify(e) is { } error)
            {
                result = w =>
                {
                    w.WriteString("error", error.Message);
                    w.WriteString("type", error.Kind);
                };
            }
            output.WriteLine(Json.Document(w =>
            {
                w.WriteStartObject();
                result(w);
                w.WriteEndObject();
            }));
        }
        output.Flush();
        return 0;
    }

    private static (string A, string B, MetricSpec Spec) ParseRequest(string line, string batchFile, int lineNumber)
    {
        string where = $"{batchFile}:{lineNumber}";
        JsonElement request;
        try
        {
            request = JsonDocument.Parse(line).RootElement;
        }
        catch (JsonException e)
        {
            throw new AlignmentException(ErrorKind.RequestError, $"{where}: not a JSON object ({e.Message})");
        }
        if (request.ValueKind != JsonValueKind.Object)
            throw new AlignmentException(ErrorKind.RequestError, $"{where}: a request must be a JSON object");
        string Field(string name) =>
            request.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { Length: > 0 } text
                ? text
                : throw new AlignmentException(ErrorKind.RequestError, $"{where}: field '{name}' must be a non-empty string");
        string a = Field("a"), b = Field("b"), metric = Field("metric");
        request.TryGetProperty("kwargs", out var kwargs);
        return (a, b, MetricSpec.Create(metric, kwargs));
    }
}
