using System.Text.Json;
using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using static Prh.Alignment.Tests.Fixtures.MetricCaseTests;

namespace Prh.Alignment.Tests.Fixtures;

/// <summary>The manifest's pipeline: clamp thresholds, compute_score pairs and compute_alignment matrices.</summary>
public sealed class PipelineTests
{
    private static JsonElement Pipeline => FixtureSet.Manifest.GetProperty("pipeline");

    private static string FileOf(string model) =>
        Pipeline.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("name").GetString() == model).GetProperty("file").GetString()!;

    public static IEnumerable<object[]> Models() =>
        Pipeline.GetProperty("models").EnumerateArray().Select(m => new object[] { m.GetProperty("name").GetString()! });

    public static IEnumerable<object[]> Pairs() =>
        Pipeline.GetProperty("pairs").EnumerateArray().Select((p, i) => new object[]
            { i, $"{p.GetProperty("metric").GetString()} {p.GetProperty("x").GetString()} x {p.GetProperty("y").GetString()}" });

    public static IEnumerable<object[]> Matrices() =>
        Pipeline.GetProperty("alignment_matrices").EnumerateArray().Select((m, i) => new object[]
            { i, $"{m.GetProperty("label").GetString()} {m.GetProperty("metric").GetString()}" });

    [Theory]
    [MemberData(nameof(Models))]
    public void Clamp_threshold_and_prepared_sums_match(string model)
    {
        var m = Pipeline.GetProperty("models").EnumerateArray().Single(x => x.GetProperty("name").GetString() == model);
        var raw = FixtureSet.Load(m.GetProperty("file").GetString()!);
        Assert.Equal(m.GetProperty("numel").GetInt64(), raw.ValueCount);
        double q = FeaturePreparation.ClampThreshold(raw, Pipeline.GetProperty("q").GetDouble());
        Assert.Equal(m.GetProperty("q_val").GetDouble(), q); // the same element of the tensor, exactly

        double sum = 0, abs = 0;
        foreach (var layer in raw.Layers)
            foreach (double v in layer.Data) { double c = Math.Clamp(v, -q, q); sum += c; abs += Math.Abs(c); }
        AssertClose(m.GetProperty("prepared_sum").GetDouble(), sum, 1e-9 * abs, $"{model} prepared_sum");
        AssertClose(m.GetProperty("prepared_abs_sum").GetDouble(), abs, 1e-9 * abs, $"{model} prepared_abs_sum");
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void Compute_score_matches_reference(int index, string label)
    {
        var p = Pipeline.GetProperty("pairs")[index];
        string metric = p.GetProperty("metric").GetString()!;
        var spec = MetricSpec.ForComputeScore(metric, TopK(p));
        var result = AlignmentScoring.ComputeScore(
            SketchCache.Prepared(FileOf(p.GetProperty("x").GetString()!)),
            SketchCache.Prepared(FileOf(p.GetProperty("y").GetString()!)), spec);

        double tolerance = ToleranceF64(metric);
        var expected = p.GetProperty("layer_scores_f64");
        Assert.Equal(expected.GetArrayLength(), result.Scores.GetLength(0));
        for (int i = 0; i < result.Scores.GetLength(0); i++)
        {
            Assert.Equal(expected[i].GetArrayLength(), result.Scores.GetLength(1));
            for (int j = 0; j < result.Scores.GetLength(1); j++)
                AssertClose(expected[i][j].GetDouble(), result.Scores[i, j], tolerance, $"{label} layer ({i}, {j})");
        }
        AssertClose(p.GetProperty("best_score_f64").GetDouble(), result.BestScore, tolerance, $"{label} best score");
        if (p.GetProperty("margin_to_runner_up").GetDouble() > 1e-5)
        {
            var best = p.GetProperty("best_indices_f64");
            Assert.NotNull(result.BestIndices);
            Assert.Equal((best[0].GetInt32(), best[1].GetInt32()), result.BestIndices!.Value);
        }
    }

    [Theory]
    [MemberData(nameof(Matrices))]
    public void Compute_alignment_matches_reference(int index, string label)
    {
        var m = Pipeline.GetProperty("alignment_matrices")[index];
        string metric = m.GetProperty("metric").GetString()!;
        var spec = MetricSpec.ForComputeScore(metric, TopK(m));
        var xNames = m.GetProperty("x_models").EnumerateArray().Select(x => x.GetString()!).ToList();
        var yNames = m.GetProperty("y_models").EnumerateArray().Select(x => x.GetString()!).ToList();
        bool symmetric = xNames.SequenceEqual(yNames);
        var result = AlignmentScoring.ComputeAlignment(
            xNames.Select(n => SketchCache.Prepared(FileOf(n))).ToList(),
            yNames.Select(n => SketchCache.Prepared(FileOf(n))).ToList(), spec, symmetric);

        // The matrices hold the float32 reference's values: allow its float32 noise, measured per
        // metric from the manifest's own pairs (layer_scores against layer_scores_f64).
        double tolerance = Math.Max(ToleranceF64(metric), 4 * Float32Noise(metric));
        var scores = m.GetProperty("scores");
        var indices = m.GetProperty("indices");
        var margins = m.GetProperty("margin_to_runner_up");
        for (int i = 0; i < xNames.Count; i++)
            for (int j = 0; j < yNames.Count; j++)
            {
                AssertClose(scores[i][j].GetDouble(), result.Scores[i, j], tolerance, $"{label} [{i}, {j}]");
                bool diagonal = symmetric && i == j; // decided by rounding in the reference (see its README)
                if (!diagonal && margins[i][j].GetDouble() > 1e-5)
                    Assert.Equal((indices[i][j][0].GetInt32(), indices[i][j][1].GetInt32()), result.Indices[i, j]!.Value);
            }
    }

    private static int? TopK(JsonElement e) => e.GetProperty("topk").ValueKind == JsonValueKind.Null ? null : e.GetProperty("topk").GetInt32();

    /// <summary>Neighbour-count metrics are exact up to float32 rounding of the mean; kernel metrics agree with float64 to ~1e-8.</summary>
    private static double ToleranceF64(string metric) => metric.Contains("knn") && metric != "cknna" ? 1e-6 : 1e-8;

    private static double Float32Noise(string metric) =>
        Pipeline.GetProperty("pairs").EnumerateArray()
            .Where(p => p.GetProperty("metric").GetString() == metric)
            .SelectMany(p => p.GetProperty("layer_scores").EnumerateArray().Zip(p.GetProperty("layer_scores_f64").EnumerateArray())
                .SelectMany(rows => rows.First.EnumerateArray().Zip(rows.Second.EnumerateArray())
                    .Select(v => Math.Abs(v.First.GetDouble() - v.Second.GetDouble()))))
            .DefaultIfEmpty(0).Max();
}
