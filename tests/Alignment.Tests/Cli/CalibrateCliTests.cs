using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Alignment.Tests.Fixtures;
using Prh.Contracts.Sweeps;
using Prh.TestSupport;
using Statistic = Prh.Alignment.Calibration.Calibration;

namespace Prh.Alignment.Tests.Cli;

/// <summary>
/// <c>prh score</c> and <c>prh matrix</c> with <c>--calibrate</c>, run as processes on the manifest's pipeline models,
/// against the calibration engine run in this process on the same prepared features and permutations: every
/// statistic of the JSON, the per-layer-pair tests, Benjamini-Hochberg and the family-wise threshold. Recorded
/// permutations are written from the seeded ones and must give the same answer; bad input is refused, named.
/// </summary>
public sealed class CalibrateCliTests
{
    private const int K = 39;
    private const ulong Seed = 7;

    private static JsonElement Pipeline => FixtureSet.Manifest.GetProperty("pipeline");

    private static string ModelFile(string model) => FixtureSet.Path(Pipeline.GetProperty("models").EnumerateArray()
        .Single(m => m.GetProperty("name").GetString() == model).GetProperty("file").GetString()!);

    /// <summary>The model as the console prepares it (prepare_features at the pipeline's q).</summary>
    private static ModelSketch Prepared(string path) => new(FeaturePreparation.Prepare(FeatureFile.Load(path), FixtureSet.PipelineQuantile));

    private static string[] Common(string metric) => ["--metric", metric, "--topk", "10", "--quantile", FixtureSet.PipelineQuantile.ToString("R"), "--json"];

    private static MetricSpec Spec(string metric) => MetricSpec.ForComputeScore(metric, 10, null, null, null);

    private static double[,] Matrix(JsonElement rows)
    {
        var result = new double[rows.GetArrayLength(), rows[0].GetArrayLength()];
        for (int i = 0; i < result.GetLength(0); i++)
            for (int j = 0; j < result.GetLength(1); j++) result[i, j] = rows[i][j].GetDouble();
        return result;
    }

    private static void AssertStatistics(Statistic expected, JsonElement json, string what)
    {
        Assert.Equal(expected.Exceedances, json.GetProperty("exceedances").GetInt32());
        foreach (var (name, value) in Statistics)
            Assert.True(value(expected) == json.GetProperty(name).GetDouble(), $"{what} {name}: engine {value(expected)}, prh {json.GetProperty(name)}");
    }

    private static void AssertGrid(Statistic[,] expected, JsonElement json, string what)
    {
        foreach (var (name, value) in Statistics)
        {
            var actual = Matrix(json.GetProperty(name));
            Assert.Equal(expected.GetLength(0), actual.GetLength(0));
            Assert.Equal(expected.GetLength(1), actual.GetLength(1));
            for (int i = 0; i < expected.GetLength(0); i++)
                for (int j = 0; j < expected.GetLength(1); j++)
                    Assert.True(value(expected[i, j]) == actual[i, j], $"{what} {name} [{i}, {j}]: engine {value(expected[i, j])}, prh {actual[i, j]}");
        }
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int j = 0; j < expected.GetLength(1); j++)
                Assert.Equal(expected[i, j].Exceedances, json.GetProperty("exceedances")[i][j].GetInt32());
    }

    private static readonly (string Name, Func<Statistic, double> Value)[] Statistics =
    [
        ("observed", c => c.Observed), ("tau", c => c.Tau), ("p_value", c => c.PValue), ("calibrated", c => c.Calibrated),
        ("null_mean", c => c.NullMean), ("null_std", c => c.NullStd), ("z", c => c.Z),
    ];

    /// <summary>BH at q over a grid's p-values row-major, as a mask of the grid's shape.</summary>
    private static (double Cutoff, bool[] Reject) Bh(Statistic[,] grid, double q) =>
        MultipleTesting.BenjaminiHochberg(grid.Cast<Statistic>().Select(c => c.PValue).ToArray(), q);

    private static bool[] Flat(JsonElement rows) => rows.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetBoolean())).ToArray();

    [Fact]
    public void Calibrated_score_of_a_pipeline_pair_of_each_metric_equals_the_engine_in_process()
    {
        foreach (var p in Pipeline.GetProperty("pairs").EnumerateArray().GroupBy(p => p.GetProperty("metric").GetString()).Select(g => g.Last()))
        {
            string metric = p.GetProperty("metric").GetString()!;
            string x = ModelFile(p.GetProperty("x").GetString()!), y = ModelFile(p.GetProperty("y").GetString()!);
            var result = PrhProcess.Run(["score", x, y, .. Common(metric), "--calibrate", $"{K}", "--seed", $"{Seed}", "--fdr", "0.2"]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            var json = result.Json.GetProperty("calibration");

            var options = new CalibrationOptions { PerCell = true };
            var sketchX = Prepared(x);
            var pair = CalibratedScoring.ComputeScore(sketchX, Prepared(y), Spec(metric), SamplePermutations.Seeded(Seed, K, sketchX.SampleCount), options);
            Assert.Equal(K, json.GetProperty("permutations").GetInt32());
            Assert.Equal(Seed, json.GetProperty("seed").GetUInt64());
            Assert.Equal("max", json.GetProperty("aggregate").GetString());
            Assert.Equal(pair.Scores.BestScore, result.Json.GetProperty("best_score").GetDouble());
            AssertStatistics(pair.Calibrate(0, options), json, $"score {metric}");

            var cells = pair.CalibrateCells(options);
            var layers = json.GetProperty("layer_pairs");
            AssertGrid(cells, layers, $"score {metric} layer pairs");
            var (cutoff, reject) = Bh(cells, 0.2);
            Assert.Equal(cutoff, layers.GetProperty("bh_cutoff").GetDouble());
            Assert.Equal(reject, Flat(layers.GetProperty("significant")));
        }
    }

    /// <summary>An asymmetric and a symmetric alignment of the manifest, each with another aggregate.</summary>
    [Fact]
    public void Calibrated_matrix_equals_the_engine_in_process_with_bh_and_the_family_wise_threshold()
    {
        var matrices = Pipeline.GetProperty("alignment_matrices").EnumerateArray().ToList();
        foreach (var (m, aggregate, flag) in new[]
        {
            (matrices.First(x => x.GetProperty("metric").GetString() == "mutual_knn"), LayerAggregate.Max, "max"),
            (matrices.Last(x => x.GetProperty("metric").GetString() == "cka"), LayerAggregate.RowMaxMean, "row_max_mean"),
        })
        {
            var xs = m.GetProperty("x_models").EnumerateArray().Select(v => ModelFile(v.GetString()!)).ToArray();
            var ys = m.GetProperty("y_models").EnumerateArray().Select(v => ModelFile(v.GetString()!)).ToArray();
            string metric = m.GetProperty("metric").GetString()!;
            bool symmetric = xs.SequenceEqual(ys);
            var result = PrhProcess.Run(["matrix", "--x", .. xs, "--y", .. ys, .. Common(metric), "--calibrate", $"{K}", "--seed", $"{Seed}", "--aggregate", flag]);
            Assert.True(result.ExitCode == 0, result.Stderr);
            var json = result.Json.GetProperty("calibration");

            var options = new CalibrationOptions { Aggregates = [aggregate] };
            var xSketches = xs.Select(Prepared).ToList();
            var ySketches = symmetric ? xSketches : ys.Select(Prepared).ToList();
            var alignment = CalibratedScoring.ComputeAlignment(xSketches, ySketches, Spec(metric), symmetric,
                SamplePermutations.Seeded(Seed, K, xSketches[0].SampleCount), options);
            var grid = new Statistic[xs.Length, ys.Length];
            var nulls = new List<double[]>();
            for (int i = 0; i < xs.Length; i++)
                for (int j = 0; j < ys.Length; j++)
                {
                    grid[i, j] = alignment.Calibrate(i, j, aggregate, options);
                    nulls.Add(alignment.NullScores(i, j, aggregate));
                }
            Assert.Equal(aggregate.Name, json.GetProperty("aggregate").GetString());
            Assert.Equal(alignment.Alignment.Scores.Cast<double>(), Matrix(result.Json.GetProperty("scores")).Cast<double>());
            AssertGrid(grid, json, $"matrix {metric} {aggregate}");

            var (cutoff, reject) = Bh(grid, CalibrationSettings.DefaultFdr);
            Assert.Equal(cutoff, json.GetProperty("bh_cutoff").GetDouble());
            Assert.Equal(reject, Flat(json.GetProperty("significant")));
            double threshold = MultipleTesting.MaxStatisticThreshold(MultipleTesting.FamilyMaxima(nulls), options.Alpha);
            Assert.Equal(threshold, json.GetProperty("fwer_threshold").GetDouble());
            Assert.Equal(grid.Cast<Statistic>().Select(c => c.Observed > threshold), Flat(json.GetProperty("fwer_significant")));
        }
    }

    [Fact]
    public void Recorded_permutations_give_what_the_seeded_ones_they_record_give()
    {
        var pair = Pipeline.GetProperty("pairs").EnumerateArray().First();
        string x = ModelFile(pair.GetProperty("x").GetString()!), y = ModelFile(pair.GetProperty("y").GetString()!);
        string metric = pair.GetProperty("metric").GetString()!;
        int n = Pipeline.GetProperty("N").GetInt32();
        string file = Path.Combine(Path.GetTempPath(), $"prh-perms-{Guid.NewGuid():N}.npy");
        try
        {
            // K + 5 rows recorded; --calibrate K takes the first K, which are the seeded draws.
            var seeded = SamplePermutations.Seeded(Seed, K + 5, n);
            NpyFile.Write(file, [K + 5, n], Enumerable.Range(0, K + 5).SelectMany(k => seeded[k].Forward.ToArray().Select(v => (double)v)).ToArray(), TensorDType.Int64);
            var fromSeed = PrhProcess.Run(["score", x, y, .. Common(metric), "--calibrate", $"{K}", "--seed", $"{Seed}"]);
            var fromFile = PrhProcess.Run(["score", x, y, .. Common(metric), "--calibrate", $"{K}", "--permutations", file]);
            Assert.True(fromSeed.ExitCode == 0, fromSeed.Stderr);
            Assert.True(fromFile.ExitCode == 0, fromFile.Stderr);
            var a = fromSeed.Json.GetProperty("calibration");
            var b = fromFile.Json.GetProperty("calibration");
            Assert.Equal(file, b.GetProperty("permutations_file").GetString());
            Assert.Equal(JsonValueKind.Null, b.GetProperty("seed").ValueKind);
            foreach (string field in new[] { "observed", "tau", "p_value", "calibrated", "null_mean", "null_std", "z", "exceedances", "layer_pairs" })
                Assert.Equal(a.GetProperty(field).GetRawText(), b.GetProperty(field).GetRawText());
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Calibrated_output_without_json_prints_every_statistic()
    {
        var m = Pipeline.GetProperty("alignment_matrices").EnumerateArray().First();
        var xs = m.GetProperty("x_models").EnumerateArray().Select(v => ModelFile(v.GetString()!)).ToArray();
        var ys = m.GetProperty("y_models").EnumerateArray().Select(v => ModelFile(v.GetString()!)).ToArray();
        string metric = m.GetProperty("metric").GetString()!;
        var matrix = PrhProcess.Run(["matrix", "--x", .. xs, "--y", .. ys, "--metric", metric, "--topk", "10", "--calibrate", "19"]);
        Assert.True(matrix.ExitCode == 0, matrix.Stderr);
        foreach (string heading in new[] { "observed", "tau", "p_value", "calibrated", "null_mean", "null_std", "z", "Benjamini-Hochberg", "family-wise (max-statistic) threshold" })
            Assert.Contains(heading, matrix.Stdout);
        var score = PrhProcess.Run("score", xs[0], ys[0], "--metric", metric, "--topk", "10", "--calibrate", "19");
        Assert.True(score.ExitCode == 0, score.Stderr);
        foreach (string label in new[] { "observed", "τ", "p", "calibrated", "null mean", "null std", "z", "layer pairs' p-values" })
            Assert.Contains(label, score.Stdout);
    }

    [Fact]
    public void Bad_calibration_input_is_refused_naming_the_flag_or_file()
    {
        var pair = Pipeline.GetProperty("pairs").EnumerateArray().First();
        string x = ModelFile(pair.GetProperty("x").GetString()!), y = ModelFile(pair.GetProperty("y").GetString()!);
        int n = Pipeline.GetProperty("N").GetInt32();
        string folder = Path.Combine(Path.GetTempPath(), $"prh-bad-perms-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string Write(string name, int[] shape, IEnumerable<double> values, TensorDType type = TensorDType.Int64)
            {
                string path = Path.Combine(folder, name);
                NpyFile.Write(path, shape, values.ToArray(), type);
                return path;
            }
            var identity = Enumerable.Range(0, n).Select(v => (double)v).ToArray();
            var repeated = identity.ToArray();
            repeated[5] = repeated[6];
            string otherN = Write("other-n.npy", [2, n - 1], identity[..(n - 1)].Concat(identity[..(n - 1)]));
            string cube = Write("cube.npy", [1, 1, n], identity);
            string floats = Write("floats.npy", [1, n], identity, TensorDType.Float32);
            string twice = Write("twice.npy", [2, n], identity.Concat(repeated));
            string few = Write("few.npy", [2, n], identity.Concat(identity));
            string missing = Path.Combine(folder, "missing.npy");
            (string[] Flags, string[] Phrases)[] cases =
            [
                (["--calibrate", "0"], ["--calibrate", "at least 1"]),
                (["--calibrate", "10", "--alpha", "0"], ["--alpha", "(0, 1)"]),
                (["--calibrate", "10", "--alpha", "1.5"], ["--alpha", "(0, 1)"]),
                (["--calibrate", "10", "--fdr", "1"], ["--fdr", "(0, 1)"]),
                (["--alpha", "0.1"], ["--alpha needs --calibrate"]),
                (["--permutations", few], ["--permutations needs --calibrate"]),
                (["--calibrate", "10", "--aggregate", "median"], ["--aggregate", "median"]),
                (["--calibrate", "10", "--aggregate", "topk_mean"], ["--aggregate", "topk_mean:K"]),
                (["--calibrate", "2", "--seed", "1", "--permutations", few], ["--seed and --permutations"]),
                (["--calibrate", "2", "--permutations", otherN], ["--permutations", otherN, $"permute {n - 1} samples", $"have {n}"]),
                (["--calibrate", "1", "--permutations", cube], ["--permutations", cube, "(K, N)"]),
                (["--calibrate", "1", "--permutations", floats], ["--permutations", floats, "integers"]),
                (["--calibrate", "2", "--permutations", twice], ["--permutations", twice, "row 1", "appears twice"]),
                (["--calibrate", "3", "--permutations", few], ["--permutations", few, "holds 2 permutations", "asks for 3"]),
                (["--calibrate", "2", "--permutations", missing], ["--permutations", missing]),
            ];
            foreach (var (flags, phrases) in cases)
            {
                var result = PrhProcess.Run(["score", x, y, "--metric", "cka", .. flags, "--json"]);
                Assert.True(result.ExitCode != 0, $"{string.Join(' ', flags)} was accepted");
                Assert.Equal("", result.Stdout);
                foreach (string phrase in phrases) Assert.Contains(phrase, result.Stderr);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
