using System.CommandLine;
using Prh.Alignment.Calibration;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Client.Sweeps;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.Extraction;
using Prh.Extraction.Onnx;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh demo</c>, the main job with no set-up: writes a zoo of small ONNX networks with seeded
/// weights (a family of MLPs and a family of token models, each at several widths) and a synthetic
/// dataset, runs a sweep over them on an embedded silo (extraction in shards, sketches, matrices),
/// prints the matrices and writes CSV, JSON and heatmap PNGs. As in the paper, the wider members of a
/// family agree more with each other than the narrow ones. Every score is calibrated by K = 200 seeded permutations:
/// a control MLP that sees independent noise instead of the samples aligns with the others only by chance.
/// </summary>
internal static class DemoCommand
{
    private const int InputWidth = 32, Tokens = 8;
    private static readonly int[] s_mlpWidths = [16, 64, 256, 1024];
    private static readonly (int Width, int Depth)[] s_tokenModels = [(16, 2), (64, 3), (256, 4)];

    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "Folder for models, data, store, CSV, JSON and PNG files", DefaultValueFactory = _ => "./prh-demo" };
        var samples = new Option<int>("--samples") { Description = "Inputs in the dataset (N)", DefaultValueFactory = _ => 256 };
        var command = new Command("demo",
            "Build small ONNX model families, extract and score them in a sweep on an embedded silo, print and save the matrices.") { output, samples };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            string folder = Path.GetFullPath(parse.GetValue(output)!);
            int n = parse.GetValue(samples);
            var definition = WriteZoo(folder, n);
            Console.Out.WriteLine($"demo: {definition.Models.Count} ONNX models (2 families and a control that sees noise) over N = {n} inputs, under {folder}");

            var results = await RunAsync(definition, folder);
            Console.Out.WriteLine();
            foreach (var matrix in results) Console.Out.WriteLine(WidthTrend(matrix));
            Console.Out.WriteLine($"\nwrote results.json and, per metric, a .csv and a .png heatmap of the scores and of the calibrated scores in {folder}");
            return 0;
        }));
        command.Subcommands.Add(RealDemoCommand.Build());
        return command;
    }

    /// <summary>
    /// Runs <paramref name="definition"/> on an embedded silo whose store is under <paramref name="folder"/>,
    /// prints how each model was extracted and each matrix, and writes results.json and per metric a .csv
    /// and a .png heatmap there; a sweep that does not complete is a refusal with its errors.
    /// </summary>
    internal static async Task<IReadOnlyList<MetricMatrix>> RunAsync(SweepDefinition definition, string folder)
    {
        await using var cluster = await ClusterConnection.Embedded(Path.Combine(folder, "data"));
        var sweep = cluster.Client.GetGrain<ISweepGrain>(definition.Name);
        await sweep.SubmitAsync(definition);
        SweepStatus status;
        while (!(status = await sweep.GetStatusAsync()).IsFinished) await Task.Delay(200);
        Console.Out.WriteLine($"sweep {status.Id}: {status.Phase.ToString().ToLowerInvariant()}, {status.LayerPairsScored} layer pairs scored");
        foreach (var extraction in status.Extractions) Console.Out.WriteLine($"  extracted {SweepStatusText.Extraction(extraction)}");
        if (status.Phase != SweepPhase.Completed || status.ModelErrors.Count > 0) throw new RefusalException(string.Join("; ", SweepStatusText.Errors(status)));

        var results = await sweep.GetResultsAsync();
        await File.WriteAllTextAsync(Path.Combine(folder, "results.json"), SweepResults.Json(results[0].Models, results) + "\n");
        foreach (var matrix in results)
        {
            Console.Out.WriteLine();
            Console.Out.Write(SweepResults.Table(matrix));
            await File.WriteAllTextAsync(Path.Combine(folder, $"{matrix.Metric.Key}.csv"), SweepResults.Csv(matrix));
            HeatmapPlot.Save(matrix, MatrixView.Scores, Path.Combine(folder, $"{matrix.Metric.Key}.png"));
            if (matrix.Calibration is null) continue;
            await File.WriteAllTextAsync(Path.Combine(folder, $"{matrix.Metric.Key}.calibrated.csv"), SweepResults.Csv(matrix, MatrixView.Calibrated));
            HeatmapPlot.Save(matrix, MatrixView.Calibrated, Path.Combine(folder, $"{matrix.Metric.Key}.calibrated.png"));
        }
        return results;
    }

    /// <summary>Alignment of neighbouring widths in the MLP family: it grows with width.</summary>
    private static string WidthTrend(MetricMatrix matrix)
    {
        var ids = matrix.Models.ToList();
        var pairs = s_mlpWidths.Zip(s_mlpWidths.Skip(1), (a, b) =>
        {
            int i = ids.IndexOf($"mlp_w{a}"), j = ids.IndexOf($"mlp_w{b}");
            return $"w{a}~w{b} {Math.Max(matrix.Scores[i][j], matrix.Scores[j][i]):F3}";
        });
        return $"{matrix.Metric.Key,-14} MLP family, neighbouring widths: {string.Join(", ", pairs)}";
    }

    private static IEnumerable<string> ModelLines(ModelDefinition m)
    {
        yield return $"  - id: {m.Id}";
        yield return $"    onnx: models/{Path.GetFileName(m.Onnx!.Path)}";
        yield return $"    layer_op: {m.Onnx.LayerOp}";
        yield return $"    pool: {PoolingNames.Name(m.Onnx.Pool)}";
        if (m.Onnx.Mask is { } mask) yield return $"    mask: {mask}";
        foreach (var (input, datasetInput) in m.Onnx.Inputs ?? new Dictionary<string, string>())
            yield return $"    inputs: {{{input}: {datasetInput}}}";
    }

    private static SweepDefinition WriteZoo(string folder, int n)
    {
        string models = Path.Combine(folder, "models"), data = Path.Combine(folder, "inputs");
        Directory.CreateDirectory(models);
        Directory.CreateDirectory(data);
        var sources = new List<ModelDefinition>();
        foreach (int width in s_mlpWidths)
        {
            string path = Path.Combine(models, $"mlp_w{width}.onnx");
            File.WriteAllBytes(path, OnnxModelBuilder.Mlp(InputWidth, [width, width, width], seed: width).Bytes);
            sources.Add(new ModelDefinition($"mlp_w{width}", null, new OnnxSource(path, LayerOp: "Relu", Pool: Pooling.None)));
        }
        // A control: an MLP that sees independent noise, not the samples. Its alignment with the others is chance, which calibration tells.
        string control = Path.Combine(models, "ctrl_w256.onnx");
        File.WriteAllBytes(control, OnnxModelBuilder.Mlp(InputWidth, [256, 256, 256], seed: 256).Bytes);
        sources.Add(new ModelDefinition("ctrl_w256", null, new OnnxSource(control, LayerOp: "Relu", Pool: Pooling.None,
            Inputs: new Dictionary<string, string> { ["x"] = "noise" })));
        foreach (var (width, depth) in s_tokenModels)
        {
            string path = Path.Combine(models, $"tok_w{width}.onnx");
            File.WriteAllBytes(path, OnnxModelBuilder.TokenModel(InputWidth / Tokens, width, depth, Tokens, seed: 7 * width).Bytes);
            sources.Add(new ModelDefinition($"tok_w{width}", null, new OnnxSource(path, LayerOp: "Add", Pool: Pooling.Mean, Mask: "mask",
                Inputs: new Dictionary<string, string> { ["x"] = "tokens" })));
        }

        // One synthetic dataset seen two ways: flat vectors for the MLPs, the same numbers as tokens
        // (with padding masked out at the end of each sample) for the token models.
        var random = new Random(2024);
        var x = new double[n * InputWidth];
        for (int i = 0; i < x.Length; i++) x[i] = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var noise = new double[n * InputWidth];
        var other = new Random(7);
        for (int i = 0; i < noise.Length; i++) noise[i] = Math.Sqrt(-2 * Math.Log(1 - other.NextDouble())) * Math.Cos(2 * Math.PI * other.NextDouble());
        var mask = new double[n * Tokens];
        for (int s = 0; s < n; s++)
        {
            int valid = 3 + random.Next(Tokens - 2);
            for (int t = 0; t < valid; t++) mask[s * Tokens + t] = 1;
        }
        var inputs = new Dictionary<string, string>
        {
            ["x"] = Path.Combine(data, "x.npy"),
            ["tokens"] = Path.Combine(data, "tokens.npy"),
            ["mask"] = Path.Combine(data, "mask.npy"),
            ["noise"] = Path.Combine(data, "noise.npy"),
        };
        NpyFile.Write(inputs["x"], [n, InputWidth], x);
        NpyFile.Write(inputs["tokens"], [n, Tokens, InputWidth / Tokens], x);
        NpyFile.Write(inputs["mask"], [n, Tokens], mask);
        NpyFile.Write(inputs["noise"], [n, InputWidth], noise);

        var metrics = new List<MetricSpec> { MetricSpec.Parse("mutual_knn@10"), MetricSpec.Parse("cka"), MetricSpec.Parse("unbiased_cka"), MetricSpec.Parse("cknna@10") };
        // Every score set against chance: the paper's K = 200 permutations of the samples, seeded.
        var calibration = new CalibrationSettings(CalibrationSettings.DefaultPermutations, 0.05, 0, null, LayerAggregate.Max, CalibrationSettings.DefaultFdr);
        var definition = new SweepDefinition("demo", $"synthetic-{n}", sources, metrics, new DatasetSource(inputs), ShardSize: Math.Max(16, n / 4), calibration);
        File.WriteAllLines(Path.Combine(folder, "sweep.yaml"),
        [
            $"name: {definition.Name}", $"dataset: {definition.Dataset}", $"shard_size: {definition.ShardSize}", "inputs:",
            .. inputs.Select(p => $"  {p.Key}: inputs/{Path.GetFileName(p.Value)}"),
            "models:",
            .. sources.SelectMany(ModelLines),
            "metrics:",
            .. metrics.SelectMany(m => m.TopK is { } k ? new[] { $"  - name: {m.Name}", $"    topk: {k}" } : [$"  - name: {m.Name}"]),
            "calibration:", $"  permutations: {calibration.Permutations}", $"  seed: {calibration.Seed}", $"  aggregate: {calibration.Aggregate}",
            $"  alpha: {Json.Number(calibration.Alpha)}", $"  fdr: {Json.Number(calibration.Fdr)}",
        ]);
        return definition;
    }
}
