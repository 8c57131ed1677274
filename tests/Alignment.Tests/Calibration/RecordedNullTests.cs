using System.Text.Json;
using Prh.Alignment.Calibration;
using static Prh.Alignment.Tests.Calibration.CalibrationFixtures;

namespace Prh.Alignment.Tests.Calibration;

/// <summary>
/// The statistics on the nulls the fixtures recorded from Aristotelian's own code (calib_null_pairs,
/// registry_null_pairs): τ, p, the calibrated score, the moments, every aggregate, BH and the FWER threshold.
/// The layer max and the per-cell tests take recorded values as they are, so τ and the exceedance counts are
/// exact; the mean aggregates are float32 means in torch and float64 means here, so their values agree to a
/// float32 rounding and an exceedance count may differ only by the near-ties the manifest flags.
/// </summary>
public sealed class RecordedNullTests
{
    public static IEnumerable<object[]> Cases() => CaseMetrics();

    /// <summary>A float32 rounding of values up to 1.</summary>
    private const double Float32Step = 2.5e-7;

    private static readonly Dictionary<string, LayerAggregate> s_aggregates = new()
    {
        ["max"] = LayerAggregate.Max,
        ["rowmax_mean"] = LayerAggregate.RowMaxMean,
        ["colmax_mean"] = LayerAggregate.ColMaxMean,
        ["topk3_mean"] = LayerAggregate.TopKMean(3),
        ["hungarian_mean"] = LayerAggregate.Hungarian,
    };

    private sealed record Setting(JsonElement Case, JsonElement Metric, int La, int Lb, int K, double Alpha, double[] Calib, double[] Observed);

    private static Setting Load(string caseName, string metric)
    {
        var c = Case(caseName);
        var m = c.GetProperty("metrics").GetProperty(metric);
        return new Setting(c, m, c.GetProperty("LA").GetInt32(), c.GetProperty("LB").GetInt32(), c.GetProperty("K").GetInt32(), Number(c, "alpha"),
            Nulls(c, metric, "calib_null_pairs"), Observed(m));
    }

    private static double[] Aggregated(Setting s, double[] nulls, LayerAggregate aggregate)
    {
        var scratch = new AggregateScratch();
        int cells = s.La * s.Lb;
        return Enumerable.Range(0, s.K).Select(k => aggregate.Apply(Draw(nulls, k, cells), s.La, s.Lb, scratch)).ToArray();
    }

    private static int NearTies(JsonElement e) => e.GetProperty("n_null_within_1e-6_of_obs").GetInt32();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Layer_max_gives_the_packages_tau_p_and_calibrated_score(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var expected = s.Metric.GetProperty("layer_max");
        var nulls = Aggregated(s, s.Calib, LayerAggregate.Max);
        double observed = LayerAggregate.Max.Apply(s.Observed, s.La, s.Lb, new AggregateScratch());
        Assert.Equal(Number(expected, "T_obs"), observed);
        var result = PermutationTest.Calibrate(observed, nulls, new CalibrationOptions { Alpha = s.Alpha }, ScoreScale.Identity);
        Assert.Equal(Number(expected, "tau"), result.Tau);
        Assert.Equal(expected.GetProperty("n_null_ge_obs").GetInt32(), result.Exceedances);
        Assert.Equal(Number(expected, "p_value"), result.PValue, 1e-7); // the package's p is float32
        Assert.Equal(Number(expected, "calibrated"), result.Calibrated, 1e-6);
        Assert.Equal(Number(expected, "null_mean"), result.NullMean, 1e-9);
        Assert.Equal(Number(expected, "null_std"), result.NullStd, 1e-9);
        Assert.Equal(Number(s.Metric.GetProperty("aggregation_module"), "max_stat_threshold_fwer"), MultipleTesting.MaxStatisticThreshold(nulls, s.Alpha));

        if (expected.TryGetProperty("p_value_exact_counts", out var exactP))
        {
            // mutual_knn compared on integer overlap counts: count = score N k, exact in the recorded float32 values.
            double perCount = s.Case.GetProperty("N").GetInt32() * s.Case.GetProperty("topk").GetInt32();
            var counts = nulls.Select(v => Math.Round(v * perCount)).ToArray();
            double count = expected.GetProperty("overlap_count_obs").GetInt32();
            Assert.Equal(expected.GetProperty("n_null_ge_obs_exact_counts").GetInt32(), PermutationTest.Exceedances(counts, count));
            Assert.Equal(exactP.GetDouble(), PermutationTest.PValue(PermutationTest.Exceedances(counts, count), s.K));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Small_K_other_alpha_and_no_smax_variants_match(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var nulls = Aggregated(s, s.Calib, LayerAggregate.Max);
        double observed = LayerAggregate.Max.Apply(s.Observed, s.La, s.Lb, new AggregateScratch());
        foreach (var v in s.Metric.GetProperty("layer_max_variants").EnumerateArray())
        {
            int k = v.GetProperty("K").GetInt32();
            var options = new CalibrationOptions { Alpha = Number(v, "alpha"), Smax = v.TryGetProperty("smax", out var smax) && smax.ValueKind == JsonValueKind.Null ? null : 1.0 };
            var result = PermutationTest.Calibrate(observed, nulls.AsSpan(0, k), options, ScoreScale.Identity);
            string label = $"K={k} alpha={options.Alpha} smax={options.Smax}";
            Assert.True(Number(v, "tau") == result.Tau, $"{label}: tau {result.Tau}, expected {Number(v, "tau")}");
            Assert.True(Math.Abs(Number(v, "p_value") - result.PValue) <= 1e-7, $"{label}: p {result.PValue}");
            Assert.True(Math.Abs(Number(v, "calibrated") - result.Calibrated) <= 1e-6, $"{label}: calibrated {result.Calibrated}");
            // K < 1/alpha - 1: tau is the largest of the K + 1 values, so nothing is ever above it.
            if (k < 1 / options.Alpha - 1)
            {
                Assert.Equal(k + 1, PermutationTest.CriticalRank(k, options.Alpha));
                Assert.Equal(0, result.Calibrated);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_aggregate_of_the_aggregation_module_matches(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var module = s.Metric.GetProperty("aggregation_module");
        var scratch = new AggregateScratch();
        var all = s_aggregates.Select(p => (p.Key, p.Value, module.GetProperty(p.Key)))
            .Append(("layer_mean", LayerAggregate.Mean, s.Metric.GetProperty("layer_mean")));
        foreach (var (name, aggregate, expected) in all)
        {
            var nulls = Aggregated(s, s.Calib, aggregate);
            double observed = aggregate.Apply(s.Observed, s.La, s.Lb, scratch);
            bool exact = aggregate == LayerAggregate.Max;
            double tolerance = exact ? 0 : Float32Step;
            var result = PermutationTest.Calibrate(observed, nulls, new CalibrationOptions { Alpha = s.Alpha }, ScoreScale.Identity);
            bool isModule = name != "layer_mean";
            Assert.True(Math.Abs(Number(expected, "T_obs") - observed) <= tolerance, $"{name}: T_obs {observed}");
            Assert.True(Math.Abs(Number(expected, isModule ? "tau_alpha" : "tau") - result.Tau) <= tolerance, $"{name}: tau {result.Tau}");
            int expectedExceedances = (int)Math.Round(Number(expected, "p_value") * (s.K + 1)) - 1;
            Assert.True(Math.Abs(expectedExceedances - result.Exceedances) <= (exact ? 0 : NearTies(expected)),
                $"{name}: {result.Exceedances} exceedances, expected {expectedExceedances} (near-ties {NearTies(expected)})");
            Assert.True(Math.Abs(Number(expected, isModule ? "mu0" : "null_mean") - result.NullMean) <= Math.Max(tolerance, 1e-9), $"{name}: mean {result.NullMean}");
            Assert.True(Math.Abs(Number(expected, isModule ? "sd0" : "null_std") - result.NullStd) <= Math.Max(tolerance, 1e-9), $"{name}: std {result.NullStd}");
            if (isModule && expectedExceedances == result.Exceedances)
                Assert.True(Math.Abs(Number(expected, "g_score") - result.Calibrated) <= 1e-6, $"{name}: gated {result.Calibrated}");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Each_layer_pair_against_its_own_null_matches_calibrate_and_the_registry(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var registry = Nulls(s.Case, metric, "registry_null_pairs");
        int cells = s.La * s.Lb;
        var options = new CalibrationOptions { Alpha = s.Alpha };
        foreach (var e in s.Metric.GetProperty("pairs_calibrate").EnumerateArray())
        {
            int cell = e.GetProperty("i").GetInt32() * s.Lb + e.GetProperty("j").GetInt32();
            var nulls = Enumerable.Range(0, s.K).Select(k => s.Calib[k * cells + cell]).ToArray();
            var result = PermutationTest.Calibrate(s.Observed[cell], nulls, options, ScoreScale.Identity);
            Assert.Equal(Number(e, "tau"), result.Tau);
            Assert.Equal(e.GetProperty("n_null_ge_obs").GetInt32(), result.Exceedances);
            Assert.Equal(Number(e, "calibrated"), result.Calibrated, 1e-6);
            Assert.Equal(Number(e, "null_mean"), result.NullMean, 1e-9);
            Assert.Equal(Number(e, "null_std"), result.NullStd, 1e-9);
        }
        foreach (var e in s.Metric.GetProperty("pairs_registry").EnumerateArray())
        {
            int cell = e.GetProperty("i").GetInt32() * s.Lb + e.GetProperty("j").GetInt32();
            var nulls = Enumerable.Range(0, s.K).Select(k => registry[k * cells + cell]).ToArray();
            var result = PermutationTest.Calibrate(Number(e, "raw"), nulls, options, ScoreScale.Identity);
            Assert.Equal(Number(e, "tau"), result.Tau);
            Assert.Equal(Number(e, "p_value"), result.PValue);
            Assert.Equal(Number(e, "gated"), result.Calibrated, 1e-12);
            Assert.Equal(Number(e, "mean_null"), result.NullMean, 1e-12);
            Assert.Equal(Number(e, "std_null"), result.NullStd, 1e-12);
            Assert.Equal(Number(e, "z"), result.Z, 1e-9 * Math.Max(1, Math.Abs(result.Z)));
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Benjamini_Hochberg_over_the_layer_pairs_matches(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var bh = s.Metric.GetProperty("aggregation_module").GetProperty("bh_fdr_pairs");
        var p = s.Metric.GetProperty("pairs_calibrate").EnumerateArray().Select(e => Number(e, "p_value")).ToArray();
        AssertBh(bh, p, Number(s.Case, "alpha"));
    }

    [Fact]
    public void Benjamini_Hochberg_over_the_cases_matches()
    {
        foreach (var metric in Manifest.GetProperty("bh_fdr_cases").EnumerateObject())
            AssertBh(metric.Value, metric.Value.GetProperty("p_values").EnumerateArray().Select(v => v.GetDouble()).ToArray(), Number(Manifest.GetProperty("defaults"), "alpha"));
    }

    private static void AssertBh(JsonElement expected, double[] p, double q)
    {
        var (cutoff, reject) = MultipleTesting.BenjaminiHochberg(p, q);
        Assert.Equal(Number(expected, "threshold"), cutoff);
        Assert.Equal(expected.GetProperty("reject").EnumerateArray().Select(v => v.GetBoolean()), reject);
    }
}
