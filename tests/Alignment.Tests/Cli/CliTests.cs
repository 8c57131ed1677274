using System.Text.Json;
using Prh.Alignment.Tests.Fixtures;
using Prh.TestSupport;
using static Prh.Alignment.Tests.Fixtures.MetricCaseTests;

namespace Prh.Alignment.Tests.Cli;

/// <summary>The command-line contract, through the prh executable, on the manifest's cases.</summary>
public sealed class CliTests
{
    private static int[] Ints(JsonElement pair) => pair.EnumerateArray().Select(v => v.GetInt32()).ToArray();

    private static double ExpectedTolerance(JsonElement e) =>
        FixtureSet.OptionalDouble(e, "tol_f64") ?? e.GetProperty("tol_loose").GetDouble();

    /// <summary>The command-line flags that carry a manifest entry's keyword arguments.</summary>
    private static IEnumerable<string> Flags(JsonElement kwargs)
    {
        foreach (var p in kwargs.EnumerateObject())
        {
            string value = p.Value.ToString();
            switch (p.Name)
            {
                case "topk": yield return "--topk"; yield return value; break;
                case "kernel_metric": yield return "--kernel"; yield return value; break;
                case "rbf_sigma": yield return "--sigma"; yield return value; break;
                case "cca_dim": yield return "--cca-dim"; yield return value; break;
                default: throw new ArgumentException($"no flag for {p.Name}");
            }
        }
    }

    [Fact]
    public void Metric_json_matches_the_manifest_for_a_sample_of_cases()
    {
        var c = FixtureSet.Array("metric_cases").First();
        string a = FixtureSet.Path(c.GetProperty("inputs").GetProperty("A").GetString()!);
        string b = FixtureSet.Path(c.GetProperty("inputs").GetProperty("B").GetString()!);
        foreach (var e in c.GetProperty("expected").EnumerateArray())
        {
            string metric = e.GetProperty("metric").GetString()!;
            var result = PrhProcess.Run([.. new[] { "metric", a, b, "--metric", metric }, .. Flags(e.GetProperty("kwargs")), "--json"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.Equal(metric, result.Json.GetProperty("metric").GetString());
            double value = result.Json.GetProperty("value").GetDouble();
            if (metric == "svcca") AssertClose(e.GetProperty("exact_closed_form").GetDouble(), value, 1e-6, "cli svcca");
            else AssertClose(e.GetProperty("value_f64").GetDouble(), value, ExpectedTolerance(e), $"cli {metric} {e.GetProperty("kwargs")}");
        }
    }

    [Fact]
    public void Metric_without_json_prints_a_readable_line()
    {
        var c = FixtureSet.Array("metric_cases").First();
        var result = PrhProcess.Run("metric", FixtureSet.Path(c.GetProperty("inputs").GetProperty("A").GetString()!),
            FixtureSet.Path(c.GetProperty("inputs").GetProperty("B").GetString()!), "--metric", "cka", "--topk", "10");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("cka", result.Stdout);
        Assert.False(result.Stdout.TrimStart().StartsWith('{'));
    }

    /// <summary>Every metric and edge case of the manifest in one batch, plus bad lines that must not stop it.</summary>
    [Fact]
    public void Batch_answers_every_manifest_entry_in_order_and_survives_bad_requests()
    {
        var lines = new List<string>();
        var checks = new List<Action<JsonElement>>();
        foreach (string group in new[] { "metric_cases", "edge_cases" })
            foreach (var c in FixtureSet.Array(group))
                foreach (var e in c.GetProperty("expected").EnumerateArray())
                {
                    string a = FixtureSet.Path(c.GetProperty("inputs").GetProperty("A").GetString()!);
                    string b = FixtureSet.Path(c.GetProperty("inputs").GetProperty("B").GetString()!);
                    lines.Add(JsonSerializer.Serialize(new { a, b, metric = e.GetProperty("metric").GetString(), kwargs = e.GetProperty("kwargs") }));
                    var entry = e;
                    string what = $"{c.GetProperty("id").GetString()} {e.GetProperty("metric").GetString()} {e.GetProperty("kwargs")}";
                    checks.Add(output =>
                    {
                        if (entry.TryGetProperty("raises", out var raises))
                        {
                            Assert.Equal(raises.GetString(), output.GetProperty("type").GetString());
                            Assert.Contains(entry.GetProperty("message").GetString()!, output.GetProperty("error").GetString());
                        }
                        else if (entry.GetProperty("metric").GetString() == "svcca")
                            AssertClose(entry.GetProperty("exact_closed_form").GetDouble(), output.GetProperty("value").GetDouble(), 1e-6, what);
                        else
                            AssertClose(entry.GetProperty("value_f64").GetDouble(), output.GetProperty("value").GetDouble(), ExpectedTolerance(entry), what);
                    });
                }

        string goodA = FixtureSet.Path(FixtureSet.Array("metric_cases").First().GetProperty("inputs").GetProperty("A").GetString()!);
        string A = JsonSerializer.Serialize(goodA);
        (string Line, string Type, string Phrase)[] bad =
        [
            ("this is not json", "RequestError", "not a JSON object"),
            ($"{{\"a\": {A}, \"b\": {A}, \"metric\": \"cosine\"}}", "ValueError", "Unrecognized metric"),
            ($"{{\"a\": \"/nonexistent/x.npy\", \"b\": {A}, \"metric\": \"cka\"}}", "FileError", "/nonexistent/x.npy"),
            ($"{{\"a\": {A}, \"b\": {A}, \"metric\": \"cka\", \"kwargs\": {{\"kernel_metric\": \"poly\"}}}}", "ValueError", "Invalid kernel metric poly"),
            ($"{{\"a\": {A}, \"b\": {A}, \"metric\": \"mutual_knn\", \"kwargs\": {{\"topk\": 2.5}}}}", "TypeError", "topk must be an integer"),
            ($"{{\"a\": {A}, \"b\": {A}, \"metric\": \"svcca\", \"kwargs\": {{\"cca_dim\": 10, \"bogus\": 1}}}}", "TypeError", "unexpected keyword argument 'bogus'"),
            ($"{{\"a\": {A}, \"metric\": \"cka\"}}", "RequestError", "field 'b'"),
            ($"{{\"a\": \"\", \"b\": {A}, \"metric\": \"cka\"}}", "RequestError", "field 'a' must be a non-empty string"),
        ];
        int insertAt = 3;
        foreach (var (line, type, phrase) in bad)
        {
            lines.Insert(insertAt, line);
            checks.Insert(insertAt, output =>
            {
                Assert.Equal(type, output.GetProperty("type").GetString());
                Assert.Contains(phrase, output.GetProperty("error").GetString());
            });
            insertAt += 5;
        }

        string file = Path.Combine(Directory.CreateTempSubdirectory("prh-batch-").FullName, "requests.jsonl");
        File.WriteAllLines(file, lines);
        var result = PrhProcess.Run("metric", "--batch", file);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var outputs = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(lines.Count, outputs.Length);
        for (int i = 0; i < outputs.Length; i++) checks[i](JsonDocument.Parse(outputs[i]).RootElement);
    }

    [Fact]
    public void Score_json_matches_a_pipeline_pair_of_each_metric()
    {
        var pipeline = FixtureSet.Manifest.GetProperty("pipeline");
        string File(string model) => FixtureSet.Path(pipeline.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == model).GetProperty("file").GetString()!);
        foreach (var p in pipeline.GetProperty("pairs").EnumerateArray().GroupBy(p => p.GetProperty("metric").GetString()).Select(g => g.Last()))
        {
            string metric = p.GetProperty("metric").GetString()!;
            var result = PrhProcess.Run("score", File(p.GetProperty("x").GetString()!), File(p.GetProperty("y").GetString()!), "--metric", metric, "--topk", "10",
                "--quantile", FixtureSet.PipelineQuantile.ToString("R"), "--json");
            Assert.True(result.ExitCode == 0, result.Stderr);
            var json = result.Json;
            var expected = p.GetProperty("layer_scores_f64");
            var actual = json.GetProperty("layer_scores");
            Assert.Equal(expected.GetArrayLength(), actual.GetArrayLength());
            double tolerance = metric is "mutual_knn" ? 1e-6 : 1e-8;
            for (int i = 0; i < expected.GetArrayLength(); i++)
                for (int j = 0; j < expected[i].GetArrayLength(); j++)
                    AssertClose(expected[i][j].GetDouble(), actual[i][j].GetDouble(), tolerance, $"cli score {metric} ({i}, {j})");
            AssertClose(p.GetProperty("best_score_f64").GetDouble(), json.GetProperty("best_score").GetDouble(), tolerance, "cli best_score");
            if (p.GetProperty("margin_to_runner_up").GetDouble() > 1e-5)
                Assert.Equal(Ints(p.GetProperty("best_indices_f64")), Ints(json.GetProperty("best_indices")));
        }
    }

    [Fact]
    public void Matrix_json_matches_an_asymmetric_and_a_symmetric_alignment()
    {
        var pipeline = FixtureSet.Manifest.GetProperty("pipeline");
        string File(string model) => FixtureSet.Path(pipeline.GetProperty("models").EnumerateArray()
            .Single(m => m.GetProperty("name").GetString() == model).GetProperty("file").GetString()!);
        var matrices = pipeline.GetProperty("alignment_matrices").EnumerateArray().ToList();
        foreach (var m in new[] { matrices.First(x => x.GetProperty("metric").GetString() == "mutual_knn"),
                                  matrices.Last(x => x.GetProperty("metric").GetString() == "cka") })
        {
            var xs = m.GetProperty("x_models").EnumerateArray().Select(x => File(x.GetString()!)).ToArray();
            var ys = m.GetProperty("y_models").EnumerateArray().Select(x => File(x.GetString()!)).ToArray();
            string metric = m.GetProperty("metric").GetString()!;
            var result = PrhProcess.Run(["matrix", "--x", .. xs, "--y", .. ys, "--metric", metric, "--topk", "10", "--quantile",
                FixtureSet.PipelineQuantile.ToString("R"), "--json"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            var scores = result.Json.GetProperty("scores");
            var indices = result.Json.GetProperty("indices");
            for (int i = 0; i < xs.Length; i++)
                for (int j = 0; j < ys.Length; j++)
                {
                    AssertClose(m.GetProperty("scores")[i][j].GetDouble(), scores[i][j].GetDouble(), 1e-5, $"cli matrix {metric} [{i}, {j}]");
                    bool diagonal = xs.SequenceEqual(ys) && i == j;
                    if (!diagonal && m.GetProperty("margin_to_runner_up")[i][j].GetDouble() > 1e-5)
                        Assert.Equal(Ints(m.GetProperty("indices")[i][j]), Ints(indices[i][j]));
                }
        }
    }

    [Fact]
    public void Errors_go_to_stderr_with_a_nonzero_exit_code_and_name_the_fault()
    {
        var c = FixtureSet.Array("metric_cases").First();
        string a = FixtureSet.Path(c.GetProperty("inputs").GetProperty("A").GetString()!);
        string layered = FixtureSet.Path(FixtureSet.Manifest.GetProperty("pipeline").GetProperty("models")[0].GetProperty("file").GetString()!);
        (string[] Args, string Phrase)[] cases =
        [
            (["metric", a, "/nonexistent/b.npy", "--metric", "cka", "--json"], "/nonexistent/b.npy"),
            (["metric", a, a, "--metric", "cosine", "--json"], "Unrecognized metric: 'cosine'"),
            (["metric", a, a, "--metric", "cknna", "--topk", "1000", "--json"], "selected index k out of range"),
            (["metric", a, a, "--metric", "mutual_knn", "--json"], "needs --topk"),
            (["metric", a, layered, "--metric", "cka", "--json"], "found 7 layers"),
            (["metric", a, a, "--metric", "svcca", "--cca-dim", "5000", "--json"], "cca_dim=5000"),
            (["score", a, layered, "--metric", "cka", "--json"], "different numbers of samples"),
        ];
        foreach (var (args, phrase) in cases)
        {
            var result = PrhProcess.Run(args);
            Assert.NotEqual(0, result.ExitCode);
            Assert.Equal("", result.Stdout);
            Assert.Contains(phrase, result.Stderr);
        }
    }
}
