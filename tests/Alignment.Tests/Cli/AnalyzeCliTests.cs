using System.Text.Json;
using Prh.Alignment.Analysis;
using Prh.TestSupport;

namespace Prh.Alignment.Tests.Cli;

/// <summary>
/// <c>prh sweep analyze --matrix</c> as a process, on a results.json written here: its numbers against
/// the engine's, its files, and its refusals of bad input.
/// </summary>
public sealed class AnalyzeCliTests : IDisposable
{
    private static readonly string[] s_models = Enumerable.Range(0, 8).Select(i => $"m{i}").ToArray();
    private static readonly double[] s_competence = [0.5, 2, 1.25, 3, 4.5, 3.5, 6, 8];

    private readonly string _folder = Directory.CreateTempSubdirectory("prh-analyze-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>
    /// Scores that fall with the distance between model indices, plus an asymmetric part (as cknna's
    /// matrix may have), so the symmetrising matters; the diagonal is 1.
    /// </summary>
    private static double[][] Scores(int n, double scale) => Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j =>
        i == j ? 1 : scale * (0.9 - 0.08 * Math.Abs(i - j) + 0.01 * ((7 * i + 3 * j) % 5))).ToArray()).ToArray();

    private string ResultsJson(IReadOnlyList<string> models)
    {
        string path = Path.Combine(_folder, $"results-{models.Count}.json");
        File.WriteAllText(path, JsonSerializer.Serialize(new
        {
            models,
            results = new object[]
            {
                new { metric = "mutual_knn", topk = 10, scores = Scores(models.Count, 0.5) },
                new { metric = "cka", topk = (int?)null, scores = Scores(models.Count, 1) },
            },
        }));
        return path;
    }

    private string Csv(string name, params string[] lines)
    {
        string path = Path.Combine(_folder, name);
        File.WriteAllLines(path, lines);
        return path;
    }

    private string Competence() => Csv("competence.csv", ["model, competence", .. s_models.Select((m, i) => $"{m},{s_competence[i]}")]);

    private ProcessResult Analyze(params string[] args) => AnalyzeWith(Competence(), args);

    private ProcessResult AnalyzeWith(string competence, params string[] args) =>
        PrhProcess.Run(["sweep", "analyze", "--matrix", ResultsJson(s_models), "--competence", competence, "--out", Path.Combine(_folder, "out"), .. args]);

    private static double[] Doubles(JsonElement array, string property) => array.EnumerateArray().Select(e => e.GetProperty(property).GetDouble()).ToArray();

    [Fact]
    public void Json_report_matches_the_engine_on_the_same_matrix()
    {
        var run = Analyze("--metric", "mutual_knn", "--reference", "m7", "--buckets", "2", "--bootstrap", "300", "--seed", "7", "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = run.Json;
        Assert.Equal("mutual_knn@10", json.GetProperty("metric").GetString());

        var symmetric = SymmetricAlignment.Scores(s_models, Scores(8, 0.5));
        var buckets = CompetenceBuckets.Build(s_competence, symmetric, 2);
        var jsonBuckets = json.GetProperty("buckets");
        Assert.Equal(buckets.Select(b => b.Mean), Doubles(jsonBuckets, "mean"));
        Assert.Equal(buckets.Select(b => b.StandardError), Doubles(jsonBuckets, "standard_error"));
        Assert.Equal(["m0", "m2", "m1", "m3"], jsonBuckets[0].GetProperty("models").EnumerateArray().Select(m => m.GetString()));

        var map = ClassicalMds.Embed(SymmetricAlignment.Distances(symmetric), 2);
        var coordinates = json.GetProperty("map").GetProperty("coordinates");
        Assert.Equal(map.Coordinates.Select(c => c[0]), Doubles(coordinates, "x"));
        Assert.Equal(map.Coordinates.Select(c => c[1]), Doubles(coordinates, "y"));

        var points = ReferenceAlignment.Against(symmetric, [7]);
        var reference = json.GetProperty("reference");
        Assert.Equal(points.Alignment, Doubles(reference.GetProperty("models"), "alignment"));
        var x = points.Models.Select(i => s_competence[i]).ToArray();
        var y = points.Alignment.ToArray();
        var spearman = Bootstrap.Percentile(7, d => Correlation.Spearman(d.Select(k => x[k]).ToArray(), d.Select(k => y[k]).ToArray()), 300, 0.95, 7);
        var pearson = Bootstrap.Percentile(7, d => Correlation.Pearson(d.Select(k => x[k]).ToArray(), d.Select(k => y[k]).ToArray()), 300, 0.95, 7);
        foreach (var (name, expected) in new[] { ("spearman", spearman), ("pearson", pearson) })
        {
            var got = reference.GetProperty(name);
            Assert.Equal(expected.Estimate, got.GetProperty("estimate").GetDouble());
            Assert.Equal(expected.Lower, got.GetProperty("lower").GetDouble());
            Assert.Equal(expected.Upper, got.GetProperty("upper").GetDouble());
            Assert.Equal(expected.Used, got.GetProperty("defined").GetInt32());
        }
        // Alignment falls with the distance from m7 and competence rises towards it, up to the asymmetric wobble.
        Assert.InRange(spearman.Estimate, 0.9, 1);

        var files = json.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Equal(["mutual_knn@10-buckets.png", "mutual_knn@10-map.png", "mutual_knn@10-reference.png", "mutual_knn@10-analysis.json"], files.Select(Path.GetFileName));
        foreach (string png in files.Where(f => f.EndsWith(".png", StringComparison.Ordinal)))
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png)[..4]);
        Assert.Equal(run.Stdout, File.ReadAllText(files[^1]));
    }

    [Fact]
    public void Same_seed_same_report_and_the_table_names_every_part()
    {
        var first = Analyze("--metric", "cka", "--against", "m6", "m7", "--bootstrap", "200");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Equal(first.Stdout, Analyze("--metric", "cka", "--against", "m6", "m7", "--bootstrap", "200").Stdout);
        Assert.Contains("cka: 8 models", first.Stdout);
        Assert.Contains("4 quantile buckets", first.Stdout); // the default 5 needs 10 models
        Assert.Contains("classical MDS of 1 - alignment", first.Stdout);
        Assert.Contains("Alignment with the mean of m6, m7 against competence", first.Stdout);
        Assert.Contains("spearman", first.Stdout);
        Assert.Contains("over 200 resamples", first.Stdout);
        Assert.Contains("cka-reference.png", first.Stdout);
        // Buckets of two models have one pair each, so no standard error: null, which keeps the JSON strict.
        var noReference = Analyze("--metric", "cka", "--json");
        Assert.True(noReference.ExitCode == 0, noReference.Stderr);
        Assert.Equal(JsonValueKind.Null, noReference.Json.GetProperty("reference").ValueKind);
        Assert.All(noReference.Json.GetProperty("buckets").EnumerateArray(), b => Assert.Equal(JsonValueKind.Null, b.GetProperty("standard_error").ValueKind));
    }

    private static void AssertRefused(ProcessResult run, params string[] parts)
    {
        Assert.Equal(1, run.ExitCode);
        foreach (string part in parts) Assert.Contains(part, run.Stderr);
    }

    [Fact]
    public void Bad_competence_files_are_refused_with_the_file_line_and_model()
    {
        string unknown = Csv("unknown.csv", [.. s_models.Select(m => $"{m},1"), "m9,2"]);
        AssertRefused(AnalyzeWith(unknown, "--metric", "cka"), "FileError", "unknown.csv:9:", "'m9' is not in the matrix");
        string missing = Csv("missing.csv", [.. s_models.Where(m => m is not ("m3" or "m5")).Select(m => $"{m},1")]);
        AssertRefused(AnalyzeWith(missing, "--metric", "cka"), "missing.csv: no score for models m3, m5");
        string text = Csv("text.csv", ["model,score", "", .. s_models.Select(m => m == "m4" ? "m4,high" : $"{m},1")]);
        AssertRefused(AnalyzeWith(text, "--metric", "cka"), "text.csv:7:", "'high' of model 'm4' is not a finite number");
        string repeated = Csv("repeated.csv", [.. s_models.Select(m => $"{m},1"), "m0,3"]);
        AssertRefused(AnalyzeWith(repeated, "--metric", "cka"), "repeated.csv:9:", "on line 1");
    }

    [Fact]
    public void Bad_matrices_references_and_metrics_are_refused_by_name()
    {
        string two = ResultsJson(["a", "b"]);
        string csv = Csv("two.csv", "a,1", "b,2");
        AssertRefused(PrhProcess.Run("sweep", "analyze", "--matrix", two, "--metric", "cka", "--competence", csv, "--out", _folder),
            "ValueError", "has 2 models (a, b)", "at least 3");
        AssertRefused(Analyze("--metric", "cka", "--reference", "m8"), "--reference 'm8' is not a model of the cka matrix");
        AssertRefused(Analyze("--metric", "svcca"), "no results for metric 'svcca'; it has mutual_knn@10, cka");
        AssertRefused(Analyze("--metric", "cka", "--buckets", "5"), "5 competence buckets need at least 10 models");
        AssertRefused(Analyze("--metric", "cka", "--against", "m0", "m1", "m2", "m3", "m4", "m5"), "leaves 2 models");
        AssertRefused(PrhProcess.Run("sweep", "analyze", "--metric", "cka", "--competence", csv), "either a sweep ID or --matrix");
        string repeated = ResultsJson(["a", "b", "a"]);
        AssertRefused(PrhProcess.Run("sweep", "analyze", "--matrix", repeated, "--metric", "cka", "--competence", csv, "--out", _folder),
            "FileError", "model 'a' is listed 2 times");
    }
}
