using System.Text.Json;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using static Prh.Alignment.Tests.Calibration.CalibrationFixtures;

namespace Prh.Alignment.Tests.Calibration;

/// <summary>
/// Our nulls, computed from X.npy, Y.npy and perms.npy by relabelling the second model's sketches, against the
/// nulls Aristotelian recorded by permuting Y's rows and recomputing: mutual_knn's overlap counts exactly, the
/// kernel metrics and cknna within the README's 1e-5. Where the conventions differ it is said and converted:
/// Aristotelian's cka_linear and cka_unbiased divide by (√(hsic_KK hsic_LL) + 1e-8) where the engine (as
/// platonic-rep) adds 1e-6, so a recorded value v is compared as v (d + 1e-8) / (d + 1e-6), d = √(hsic_KK hsic_LL)
/// of the pair (permutation-invariant); the features are already unit-norm rows, used as given; no metric clips.
/// Then the calibrated pass's statistics against the manifest: mutual_knn's p exactly as the exact-count p and
/// the paper's engine (<c>prh_engine</c>), the others up to the near-ties the manifest flags.
/// </summary>
public sealed class EngineNullTests
{
    public static IEnumerable<object[]> Cases() => CaseMetrics();

    private const double Tolerance = 1e-5;

    private sealed record Setting(JsonElement Case, JsonElement Metric, MetricSpec Spec, ModelSketch X, ModelSketch Y, SamplePermutations Permutations,
        int La, int Lb, int K, int N, double Alpha);

    private static Setting Load(string caseName, string metric)
    {
        var c = Case(caseName);
        return new Setting(c, c.GetProperty("metrics").GetProperty(metric), Spec(c, metric), Sketch(File(c, "X")), Sketch(File(c, "Y")), Permutations(c),
            c.GetProperty("LA").GetInt32(), c.GetProperty("LB").GetInt32(), c.GetProperty("K").GetInt32(), c.GetProperty("N").GetInt32(), Number(c, "alpha"));
    }

    /// <summary>A recorded value in the engine's convention (see the class comment), and how far apart they may be.</summary>
    private static Func<int, double, double> Convert(Setting s)
    {
        if (s.Spec.Kind is not (MetricKind.Cka or MetricKind.UnbiasedCka)) return (_, v) => v;
        var kx = s.X.Kernels(KernelFunction.InnerProduct);
        var ky = s.Y.Kernels(KernelFunction.InnerProduct);
        return (cell, v) =>
        {
            int a = cell / s.Lb, b = cell % s.Lb;
            double d = s.Spec.Unbiased ? Math.Sqrt(kx.SelfUnbiased[a] * ky.SelfUnbiased[b]) : Math.Sqrt(kx.SelfBiased[a] * ky.SelfBiased[b]);
            return v * (d + 1e-8) / (d + Cka.Epsilon);
        };
    }

    /// <summary>Observed and per-draw layer values (comparison units) through the tile engine, one tile pass per draw.</summary>
    private static (double[] Observed, double[][] Draws) EngineValues(Setting s)
    {
        var backend = CpuTileBackend.Default;
        var x1 = backend.Upload(new SketchBlock([s.X]));
        var y1 = backend.Upload(new SketchBlock([s.Y]));
        TileMetric[] metrics = [new(s.Spec, PairMask.All(1, 1))];
        var observed = TileScorer.LayerValues(backend, x1, y1, metrics, null)[0];
        var draws = Enumerable.Range(0, s.K).Select(k => TileScorer.LayerValues(backend, x1, y1, metrics, s.Permutations[k])[0]).ToArray();
        return (observed, draws);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Relabelled_sketch_nulls_equal_the_recorded_permuted_feature_nulls(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var (observed, draws) = EngineValues(s);
        var recorded = Observed(s.Metric);
        var calib = Nulls(s.Case, metric, "calib_null_pairs");
        var registry = Nulls(s.Case, metric, "registry_null_pairs");
        var scale = TileScorer.Scale(s.Spec, s.N);
        var convert = Convert(s);
        int cells = s.La * s.Lb;
        double perCount = scale.Divisor;
        for (int cell = 0; cell < cells; cell++)
        {
            if (s.Spec.Kind == MetricKind.MutualKnn)
                Assert.Equal(Math.Round(recorded[cell] * perCount), observed[cell]);
            else
                Assert.True(Math.Abs(convert(cell, recorded[cell]) - observed[cell]) <= Tolerance, $"cell {cell}: observed {observed[cell]}, recorded {recorded[cell]}");
        }
        for (int k = 0; k < s.K; k++)
            for (int cell = 0; cell < cells; cell++)
            {
                double ours = draws[k][cell], theirs = calib[k * cells + cell];
                if (s.Spec.Kind == MetricKind.MutualKnn)
                {
                    Assert.True(Math.Round(theirs * perCount) == ours, $"draw {k} cell {cell}: {ours} overlaps, recorded {theirs * perCount}");
                    Assert.True(Math.Round(registry[k * cells + cell] * perCount) == ours, $"draw {k} cell {cell}: {ours} overlaps, registry {registry[k * cells + cell] * perCount}");
                }
                else
                    Assert.True(Math.Abs(convert(cell, theirs) - ours) <= Tolerance, $"draw {k} cell {cell}: {ours}, recorded {theirs}");
            }

        if (s.Spec.Kind == MetricKind.MutualKnn)
        {
            // The paper's engine's layer-max null, fl(fl(total / N) / k) from integer counts, is the best cell's count.
            var prh = Array(s.Metric.GetProperty("prh_engine").GetProperty("null_file").GetString()!).Values;
            for (int k = 0; k < s.K; k++) Assert.Equal(Math.Round(prh[k] * perCount), draws[k].Max());
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_calibrated_pass_gives_the_fixtures_statistics(string caseName, string metric)
    {
        var s = Load(caseName, metric);
        var options = new CalibrationOptions { Alpha = s.Alpha, Aggregates = [LayerAggregate.Max, LayerAggregate.Mean], PerCell = true };
        var pair = CalibratedScoring.ComputeScore(s.X, s.Y, s.Spec, s.Permutations, options);
        var layerMax = pair.Calibrate(0, options);
        var expected = s.Metric.GetProperty("layer_max");
        bool counts = s.Spec.Kind == MetricKind.MutualKnn;
        // The unbiased HSICs are small, so the two epsilons move τ by up to τ (1e-6 - 1e-8) / d.
        double tolerance = Tolerance + (s.Spec.Unbiased && s.Spec.Kind == MetricKind.UnbiasedCka ? 1e-6 / MinimumSelf(s) : 0);
        if (counts)
        {
            var prh = s.Metric.GetProperty("prh_engine");
            Assert.Equal(expected.GetProperty("n_null_ge_obs_exact_counts").GetInt32(), layerMax.Exceedances);
            Assert.Equal(Number(expected, "p_value_exact_counts"), layerMax.PValue);
            Assert.Equal(Number(prh, "p_value"), layerMax.PValue);
            Assert.Equal(Number(prh, "tau_alpha"), layerMax.Tau, 1e-7);
            Assert.Equal(Number(prh, "raw_score"), layerMax.Observed);
            Assert.Equal(Number(prh, "g_score"), layerMax.Calibrated, 1e-6);
            Assert.Equal(Number(prh, "mu0"), layerMax.NullMean, 1e-7);
            Assert.Equal(Number(prh, "sd0"), layerMax.NullStd, 1e-7);
        }
        else
        {
            Assert.True(Math.Abs(expected.GetProperty("n_null_ge_obs").GetInt32() - layerMax.Exceedances) <= expected.GetProperty("n_null_within_1e-6_of_obs").GetInt32(),
                $"{layerMax.Exceedances} exceedances, expected {expected.GetProperty("n_null_ge_obs")}");
            Assert.Equal(Number(expected, "tau"), layerMax.Tau, tolerance);
            Assert.Equal(Number(expected, "calibrated"), layerMax.Calibrated, tolerance * 2);
        }

        var cells = pair.CalibrateCells(options);
        foreach (var e in s.Metric.GetProperty("pairs_calibrate").EnumerateArray())
        {
            var cell = cells[e.GetProperty("i").GetInt32(), e.GetProperty("j").GetInt32()];
            if (counts) Assert.Equal(e.GetProperty("n_null_ge_obs_exact_counts").GetInt32(), cell.Exceedances);
            else Assert.True(Math.Abs(e.GetProperty("n_null_ge_obs").GetInt32() - cell.Exceedances) <= e.GetProperty("n_null_within_1e-6_of_obs").GetInt32());
            Assert.Equal(Number(e, "tau"), cell.Tau, counts ? 1e-7 : tolerance);
        }

        // The pass's kept aggregates and per-cell counts are exactly the statistics of its draws taken whole.
        var (observed, draws) = EngineValues(s);
        var scratch = new AggregateScratch();
        for (int g = 0; g < options.Aggregates.Count; g++)
            for (int k = 0; k < s.K; k++) Assert.Equal(options.Aggregates[g].Apply(draws[k], s.La, s.Lb, scratch), pair.NullAggregates[g][k]);
        for (int cell = 0; cell < s.La * s.Lb; cell++)
        {
            var whole = PermutationTest.Calibrate(observed[cell], draws.Select(d => d[cell]).ToArray(), options, pair.Scale);
            var streamed = cells[cell / s.Lb, cell % s.Lb];
            Assert.Equal(whole.Tau, streamed.Tau);
            Assert.Equal(whole.Exceedances, streamed.Exceedances);
            Assert.Equal(whole.Calibrated, streamed.Calibrated);
            Assert.Equal(whole.NullMean, streamed.NullMean, 1e-12);
            Assert.Equal(whole.NullStd, streamed.NullStd, 1e-12);
        }
    }

    private static double MinimumSelf(Setting s)
    {
        var kx = s.X.Kernels(KernelFunction.InnerProduct);
        var ky = s.Y.Kernels(KernelFunction.InnerProduct);
        return Math.Sqrt(kx.SelfUnbiased.Min() * ky.SelfUnbiased.Min());
    }

    [Fact]
    public void Identical_features_are_fully_calibrated_and_too_few_permutations_give_zero()
    {
        var c = Cases().Select(p => Case((string)p[0])).First(c => c.GetProperty("name").GetString()!.Contains("identical", StringComparison.Ordinal));
        foreach (var metric in c.GetProperty("metrics").EnumerateObject())
        {
            var s = Load(c.GetProperty("name").GetString()!, metric.Name);
            foreach (var v in metric.Value.GetProperty("layer_max_variants").EnumerateArray())
            {
                int k = v.GetProperty("K").GetInt32();
                var options = new CalibrationOptions { Alpha = Number(v, "alpha"), Smax = v.TryGetProperty("smax", out var smax) && smax.ValueKind == JsonValueKind.Null ? null : 1.0 };
                var result = CalibratedScoring.ComputeScore(s.X, s.Y, s.Spec, s.Permutations.Take(k), options).Calibrate(0, options);
                string label = $"{metric.Name} K={k} alpha={options.Alpha} smax={options.Smax}";
                Assert.True(Math.Abs(Number(v, "calibrated") - result.Calibrated) <= 1e-4, $"{label}: calibrated {result.Calibrated}, expected {Number(v, "calibrated")}");
                Assert.True(Math.Abs(Number(v, "p_value") - result.PValue) <= 1e-7, $"{label}: p {result.PValue}");
                if (k < 1 / options.Alpha - 1) Assert.Equal(0, result.Calibrated);
            }
        }
    }
}
