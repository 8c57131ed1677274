using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;

namespace Prh.Alignment.Tests.Fixtures;

/// <summary>Every expected entry of every metric case and edge case in the manifest, through the engine API.</summary>
public sealed class MetricCaseTests
{
    public static IEnumerable<object[]> Entries()
    {
        foreach (string group in new[] { "metric_cases", "edge_cases" })
            foreach (var c in FixtureSet.Array(group))
            {
                int index = 0;
                foreach (var e in c.GetProperty("expected").EnumerateArray())
                    yield return [group, c.GetProperty("id").GetString()!, index++, Label(e)];
            }
    }

    private static string Label(JsonElement e) => $"{e.GetProperty("metric").GetString()} {e.GetProperty("kwargs")}";

    [Theory]
    [MemberData(nameof(Entries))]
    public void Matches_reference(string group, string caseId, int index, string label)
    {
        var c = FixtureSet.Array(group).Single(x => x.GetProperty("id").GetString() == caseId);
        var e = c.GetProperty("expected")[index];
        var inputs = c.GetProperty("inputs");
        var a = SketchCache.Raw(inputs.GetProperty("A").GetString()!);
        var b = SketchCache.Raw(inputs.GetProperty("B").GetString()!);
        string metric = e.GetProperty("metric").GetString()!;
        var kwargs = e.GetProperty("kwargs");

        if (e.TryGetProperty("raises", out var raises))
        {
            var error = Assert.Throws<AlignmentException>(() => AlignmentScoring.ScoreOne(a, b, MetricSpec.Create(metric, kwargs)));
            Assert.Equal(raises.GetString(), error.Kind.ToString());
            Assert.Contains(e.GetProperty("message").GetString()!, error.Message);
            return;
        }

        var spec = MetricSpec.Create(metric, kwargs);
        double value = AlignmentScoring.ScoreOne(a, b, spec);
        if (metric == "svcca")
        {
            AssertClose(e.GetProperty("exact_closed_form").GetDouble(), value, 1e-6, label);
            return;
        }
        double tolerance = FixtureSet.OptionalDouble(e, "tol_f64") ?? e.GetProperty("tol_loose").GetDouble();
        AssertClose(e.GetProperty("value_f64").GetDouble(), value, tolerance, label);

        if (e.TryGetProperty("value_swapped_args", out var swapped))
        {
            // Recorded from the float32 reference only, so its float32 tolerance applies.
            double swappedTolerance = FixtureSet.OptionalDouble(e, "tol_f32") ?? e.GetProperty("tol_loose").GetDouble();
            AssertClose(swapped.GetDouble(), AlignmentScoring.ScoreOne(b, a, spec), swappedTolerance, label + " (B, A)");
        }
    }

    internal static void AssertClose(double expected, double actual, double tolerance, string what)
    {
        Assert.True(Math.Abs(expected - actual) <= tolerance,
            $"{what}: expected {expected:R}, got {actual:R} (|diff| {Math.Abs(expected - actual):E2} > {tolerance:E2})");
    }
}
