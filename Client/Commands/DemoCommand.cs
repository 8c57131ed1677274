using System.CommandLine;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Client.Sweeps;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh demo</c>, the main job with no set-up: writes a seeded zoo of synthetic models in three
/// families (vision, language, audio) that share a latent structure globally and more within a
/// family, runs a sweep over them on an embedded silo, prints the matrices and writes CSV, JSON and
/// heatmap PNGs.
/// </summary>
internal static class DemoCommand
{
    private static readonly (string Id, int Family, int[] Widths)[] s_zoo =
    [
        ("vit_small", 0, [96, 96, 96, 96, 96, 96]),
        ("vit_base", 0, [128, 128, 128, 128, 128, 128, 128, 128]),
        ("convnet", 0, [32, 64, 64, 128, 128]), // layers of different widths: safetensors layers.i
        ("llama_tiny", 1, [112, 112, 112, 112, 112, 112, 112]),
        ("bert_mini", 1, [64, 64, 64, 64, 64]),
        ("wav2vec_tiny", 2, [80, 80, 80, 80, 80, 80]),
    ];

    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "Folder for features, store, CSV, JSON and PNG files", DefaultValueFactory = _ => "./prh-demo" };
        var samples = new Option<int>("--samples") { Description = "Inputs per model (N)", DefaultValueFactory = _ => 256 };
        var command = new Command("demo", "Generate a synthetic model zoo, run a sweep over it on an embedded silo, print and save the matrices.") { output, samples };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            string folder = Path.GetFullPath(parse.GetValue(output)!);
            int n = parse.GetValue(samples);
            var definition = WriteZoo(folder, n);
            Console.Out.WriteLine($"demo: {definition.Models.Count} synthetic models in 3 families, N = {n}, under {folder}");

            await using var cluster = await ClusterConnection.Embedded(Path.Combine(folder, "data"));
            var sweep = cluster.Client.GetGrain<ISweepGrain>(definition.Name);
            await sweep.Submit(definition);
            SweepStatus status;
            while (!(status = await sweep.GetStatus()).IsFinished) await Task.Delay(200);
            Console.Out.WriteLine($"sweep {status.Id}: {status.Phase.ToString().ToLowerInvariant()}, {status.LayerPairsScored} layer pairs scored");
            if (status.Phase != SweepPhase.Completed) throw new InvalidOperationException(string.Join("; ", status.Errors));

            var results = await sweep.GetResults();
            var ids = definition.Models.Select(m => m.Id).ToList();
            await File.WriteAllTextAsync(Path.Combine(folder, "results.json"), SweepResults.Json(ids, results) + "\n");
            foreach (var matrix in results)
            {
                Console.Out.WriteLine();
                Console.Out.Write(SweepResults.Table(matrix));
                await File.WriteAllTextAsync(Path.Combine(folder, $"{matrix.Metric.Key}.csv"), SweepResults.Csv(matrix));
                HeatmapPlot.Save(matrix, Path.Combine(folder, $"{matrix.Metric.Key}.png"));
            }
            Console.Out.WriteLine($"\nwrote results.json and, per metric, a .csv and a .png heatmap in {folder}");
            return 0;
        }));
        return command;
    }

    private static SweepDefinition WriteZoo(string folder, int n)
    {
        string features = Path.Combine(folder, "features");
        Directory.CreateDirectory(features);
        var models = new List<ModelSource>();
        for (int m = 0; m < s_zoo.Length; m++)
        {
            var (id, family, widths) = s_zoo[m];
            bool uniform = widths.Distinct().Count() == 1;
            var model = uniform
                ? SyntheticZoo.Model(id, n, widths.Length, widths[0], seed: 100 + m, family: family)
                : new ModelFeatures(id, widths.Select((w, l) => SyntheticZoo.Model(id, n, 1, w, seed: 1000 * m + l, family: family).Layers[0]).ToList());
            string path = Path.Combine(features, id + (uniform ? ".npy" : ".safetensors"));
            FeatureFile.Save(path, model);
            models.Add(new ModelSource(id, path));
        }
        var metrics = new List<MetricConfig> { new("mutual_knn", 10), new("cka"), new("unbiased_cka"), new("cknna", 10) };
        var definition = new SweepDefinition("demo", $"synthetic-{n}", models, metrics);
        File.WriteAllLines(Path.Combine(folder, "sweep.yaml"),
        [
            $"name: {definition.Name}", $"dataset: {definition.Dataset}", "models:",
            .. models.SelectMany(m => new[] { $"  - id: {m.Id}", $"    features: features/{Path.GetFileName(m.Features)}" }),
            "metrics:",
            .. metrics.SelectMany(m => m.TopK is { } k ? new[] { $"  - name: {m.Name}", $"    topk: {k}" } : [$"  - name: {m.Name}"]),
        ]);
        return definition;
    }
}
