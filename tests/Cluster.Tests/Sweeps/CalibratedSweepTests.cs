using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Tests.Fixtures;
using Prh.Client.Sweeps;
using Prh.Contracts;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.TestSupport;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>
/// Calibration inside sweeps: a three-silo sweep's calibrated matrices are what <c>prh matrix --calibrate</c> computes
/// offline from the same files with the same permutations (every statistic, BH and the family-wise threshold); adding a
/// model calibrates only its pairs, with the sweep's permutations, to the matrices a sweep of all the models gets at once;
/// recorded permutations are stored and used; bad calibration input is refused naming the field or the file.
/// </summary>
public sealed class CalibratedSweepTests
{
    private static readonly MetricSpec[] s_metrics = [MetricSpec.Parse("mutual_knn@10"), MetricSpec.Parse("cka")];

    private static CalibrationSettings Seeded(int permutations, ulong seed, string aggregate = "max") =>
        new(permutations, 0.05, seed, null, LayerAggregate.Parse(aggregate), 0.05);

    private static SweepDefinition Definition(string name, IEnumerable<string> models, CalibrationSettings calibration, string dataset = "fixtures") =>
        new(name, dataset, models.Select(m => new ModelDefinition(m, SweepTests.FileOf(m))).ToList(), s_metrics, Calibration: calibration);

    [Fact]
    public async Task A_three_silo_sweeps_calibrated_matrices_are_prh_matrix_calibrated_offline_with_the_same_permutations()
    {
        var models = SweepTests.VisionModels();
        var calibration = Seeded(40, seed: 11, aggregate: "rowmax_mean");
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 3, memoryBudget: TestClusters.OneModelBlocks);
        IReadOnlyList<MetricMatrix> results;
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("calibrated");
            await sweep.SubmitAsync(Definition("calibrated", models, calibration));
            var status = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, status.Phase);
            Assert.True(status.Scoring!.TileCount >= 10, $"only {status.Scoring.TileCount} tiles: the silos hardly shared the work");
            results = await sweep.GetResultsAsync();
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        var files = models.Select(SweepTests.FileOf).ToArray();
        foreach (var matrix in results)
        {
            Assert.NotNull(matrix.Calibration);
            var offline = PrhProcess.Run(["matrix", "--x", .. files, "--y", .. files, "--metric", matrix.Metric.Name, .. TopK(matrix.Metric),
                "--calibrate", "40", "--seed", "11", "--aggregate", "rowmax_mean", "--json"]);
            Assert.True(offline.ExitCode == 0, offline.Stderr);
            var expected = offline.Json;
            var actual = JsonDocument.Parse(SweepResults.MatrixJson(matrix)).RootElement;
            // mutual_knn counts overlaps exactly; cka's tiles here are cut otherwise than offline, so sums may differ in the last
            // bits, and z = (s - mean) / std divides such differences by the null's small std.
            double tolerance = matrix.Metric.Name == "mutual_knn" ? 0 : 1e-9;
            AssertSame(expected.GetProperty("scores"), actual.GetProperty("scores"), tolerance, $"{matrix.Metric.Key} scores");
            var c = expected.GetProperty("calibration");
            foreach (var property in c.EnumerateObject())
                AssertSame(property.Value, actual.GetProperty("calibration").GetProperty(property.Name), tolerance, $"{matrix.Metric.Key} calibration.{property.Name}");
            Assert.Equal(models.Count * models.Count, matrix.Calibration!.Tests.Length);
        }
        // The demo's kind of result: at least one model pair is aligned beyond chance, and each statistic is in range.
        Assert.Contains(results, m => m.Calibration!.Significant.Cast<bool>().Any(s => s));
        Assert.All(results.SelectMany(m => m.Calibration!.Tests.Cast<Calibration>()), t =>
        {
            Assert.InRange(t.PValue, 1.0 / 41, 1);
            Assert.InRange(t.Calibrated, 0, 1);
        });
    }

    [Fact]
    public async Task Adding_a_model_calibrates_only_its_pairs_with_the_sweeps_permutations()
    {
        var models = SweepTests.VisionModels();
        var calibration = Seeded(25, seed: 5);
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 3, memoryBudget: TestClusters.OneModelBlocks);
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("growing");
            await sweep.SubmitAsync(Definition("growing", models.SkipLast(1), calibration));
            var first = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, first.Phase);

            await sweep.SubmitAsync(Definition("growing", models, calibration));
            var second = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, second.Phase);
            var layers = models.ToDictionary(m => m, m => FixtureSet.Load(SweepTests.FileOf(m)).LayerCount);
            string added = models[^1];
            long expectedNew = s_metrics.Length * models.Sum(other => (long)layers[added] * layers[other]); // both metrics are mirrored: one row
            Assert.Equal(expectedNew, second.LayerPairsScored - first.LayerPairsScored);
            var grown = await sweep.GetResultsAsync();

            // The same models at once, on a dataset of their own (its own aggregator, nothing shared): the same matrices.
            var whole = cluster.Client.GetGrain<ISweepGrain>("whole");
            await whole.SubmitAsync(Definition("whole", models, calibration, dataset: "fixtures-whole"));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(whole)).Phase);
            var direct = await whole.GetResultsAsync();
            for (int m = 0; m < s_metrics.Length; m++)
            {
                double tolerance = s_metrics[m].Name == "mutual_knn" ? 0 : 1e-9;
                AssertSame(Json(direct[m]), Json(grown[m]), tolerance, $"{s_metrics[m].Key} grown against whole");
            }

            // Calibrated again with other permutations: every pair gets its nulls again, the scores stay.
            var other = Seeded(25, seed: 6);
            await sweep.SubmitAsync(Definition("growing", models, other));
            var third = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, third.Phase);
            Assert.Equal(s_metrics.Length * models.Sum(x => models.Where(y => models.IndexOf(y) >= models.IndexOf(x)).Sum(y => (long)layers[x] * layers[y])),
                third.LayerPairsScored - second.LayerPairsScored);
            var recalibrated = await sweep.GetResultsAsync();
            Assert.Equal(grown[0].Scores, recalibrated[0].Scores);
            Assert.NotEqual(grown[0].Calibration!.Tests.Cast<Calibration>().Select(t => t.NullMean), recalibrated[0].Calibration!.Tests.Cast<Calibration>().Select(t => t.NullMean));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Recorded_permutations_are_stored_and_give_what_the_same_seeded_ones_give()
    {
        var models = SweepTests.VisionModels().Take(3).ToList();
        int n = FixtureSet.Load(SweepTests.FileOf(models[0])).SampleCount;
        var drawn = SamplePermutations.Seeded(9, 30, n);
        string file = Path.Combine(Directory.CreateTempSubdirectory("prh-perms-").FullName, "perms.npy");
        NpyFile.Write(file, [30, n], Enumerable.Range(0, 30).SelectMany(k => drawn[k].Forward.ToArray().Select(i => (double)i)).ToArray(), TensorDType.Int64);
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 2, memoryBudget: TestClusters.OneModelBlocks);
        try
        {
            var seeded = cluster.Client.GetGrain<ISweepGrain>("seeded");
            await seeded.SubmitAsync(Definition("seeded", models, Seeded(30, seed: 9)));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(seeded)).Phase);
            var recorded = cluster.Client.GetGrain<ISweepGrain>("recorded");
            await recorded.SubmitAsync(Definition("recorded", models, new CalibrationSettings(30, 0.05, null, file, LayerAggregate.Max, 0.05)));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(recorded)).Phase);
            File.Delete(file); // stored by the sweep: its results no longer need the file
            var a = await seeded.GetResultsAsync();
            var b = await recorded.GetResultsAsync();
            for (int m = 0; m < s_metrics.Length; m++)
            {
                var (x, y) = (JsonDocument.Parse(SweepResults.MatrixJson(a[m])).RootElement, JsonDocument.Parse(SweepResults.MatrixJson(b[m])).RootElement);
                foreach (var name in new[] { "observed", "tau", "p_value", "calibrated", "null_mean", "null_std", "z", "exceedances", "significant" })
                    AssertSame(x.GetProperty("calibration").GetProperty(name), y.GetProperty("calibration").GetProperty(name), 0, $"{s_metrics[m].Key} {name}");
                Assert.StartsWith("blob:sha256:", b[m].Calibration!.Settings.PermutationsFile);
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Bad_calibration_input_is_refused_naming_the_field_or_the_file()
    {
        var models = SweepTests.VisionModels().Take(2).ToList();
        int n = FixtureSet.Load(SweepTests.FileOf(models[0])).SampleCount;
        string folder = Directory.CreateTempSubdirectory("prh-perms-").FullName;
        string wrongN = Path.Combine(folder, "wrong-n.npy"), notPermutation = Path.Combine(folder, "twice.npy"), missing = Path.Combine(folder, "absent.npy");
        NpyFile.Write(wrongN, [3, n + 1], Enumerable.Range(0, 3).SelectMany(_ => Enumerable.Range(0, n + 1).Select(i => (double)i)).ToArray(), TensorDType.Int64);
        NpyFile.Write(notPermutation, [2, n], Enumerable.Range(0, 2 * n).Select(i => (double)(i == n + 1 ? 0 : i % n)).ToArray(), TensorDType.Int64);
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 1);
        try
        {
            // Refused on submission, before anything runs.
            foreach (var (settings, message) in new[]
            {
                (Seeded(0, 0), "calibration.permutations: the number of permutations K must be at least 1, got 0"),
                (Seeded(10, 0) with { Alpha = 1 }, "calibration.alpha must lie strictly inside (0, 1), got 1"),
                (Seeded(10, 0) with { Alpha = double.NaN }, "calibration.alpha must lie strictly inside (0, 1), got NaN"),
                (Seeded(10, 0) with { Fdr = 0 }, "calibration.fdr (the false discovery rate q) must lie strictly inside (0, 1), got 0"),
                (Seeded(10, 0) with { PermutationsFile = wrongN }, "calibration.seed and calibration.permutations exclude each other"),
            })
            {
                var refusal = await Assert.ThrowsAsync<RefusalException>(() => cluster.Client.GetGrain<ISweepGrain>("bad").SubmitAsync(Definition("bad", models, settings)));
                Assert.StartsWith(message, refusal.Message);
            }

            // Refused once the dataset's N is known: the sweep fails naming the field and the file, and stores no results.
            foreach (var (file, phrases) in new[]
            {
                (wrongN, new[] { "calibration.permutations", wrongN, $"they permute {n + 1} samples, the models have {n}" }),
                (notPermutation, ["calibration.permutations", notPermutation, "row 1"]),
                (missing, ["calibration.permutations", missing]),
            })
            {
                string name = $"bad-{Path.GetFileNameWithoutExtension(file)}";
                var sweep = cluster.Client.GetGrain<ISweepGrain>(name);
                await sweep.SubmitAsync(Definition(name, models, new CalibrationSettings(2, 0.05, null, file, LayerAggregate.Max, 0.05)));
                var status = await SweepTests.Finish(sweep);
                Assert.Equal(SweepPhase.Failed, status.Phase);
                foreach (string phrase in phrases) Assert.Contains(phrase, status.Failure);
                await Assert.ThrowsAsync<RefusalException>(() => sweep.GetResultsAsync());
            }

            // A sweep that was not calibrated has no calibrated views.
            var plain = cluster.Client.GetGrain<ISweepGrain>("plain");
            await plain.SubmitAsync(new SweepDefinition("plain", "fixtures", models.Select(m => new ModelDefinition(m, SweepTests.FileOf(m))).ToList(), s_metrics));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(plain)).Phase);
            var matrix = (await plain.GetResultsAsync())[0];
            Assert.Null(matrix.Calibration);
            var none = Assert.Throws<RefusalException>(() => SweepResults.Values(matrix, MatrixView.PValues));
            Assert.Equal("mutual_knn@10: the sweep was not calibrated, so it has no p_values; give its spec a calibration block (calibration: {permutations: 200})", none.Message);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static string[] TopK(MetricSpec metric) => metric.TopK is { } k ? ["--topk", k.ToString()] : [];

    private static JsonElement Json(MetricMatrix matrix) => JsonDocument.Parse(SweepResults.MatrixJson(matrix)).RootElement;

    /// <summary>Two JSON values alike: numbers within <paramref name="tolerance"/> (NaN and null alike), everything else equal, arrays element by element.</summary>
    private static void AssertSame(JsonElement expected, JsonElement actual, double tolerance, string what)
    {
        if (expected.ValueKind == JsonValueKind.Array)
        {
            Assert.True(actual.ValueKind == JsonValueKind.Array, $"{what}: {actual} is not an array");
            Assert.True(expected.GetArrayLength() == actual.GetArrayLength(), $"{what}: {actual.GetArrayLength()} elements, expected {expected.GetArrayLength()}");
            int i = 0;
            foreach (var (e, a) in expected.EnumerateArray().Zip(actual.EnumerateArray())) AssertSame(e, a, tolerance, $"{what}[{i++}]");
            return;
        }
        if (expected.ValueKind == JsonValueKind.Number && actual.ValueKind == JsonValueKind.Number)
        {
            double x = expected.GetDouble(), y = actual.GetDouble();
            Assert.True(Math.Abs(x - y) <= tolerance * Math.Max(1, Math.Abs(x)), $"{what}: {y}, expected {x}");
            return;
        }
        Assert.True(expected.ToString() == actual.ToString(), $"{what}: {actual}, expected {expected}");
    }
}
