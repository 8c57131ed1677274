using System.CommandLine;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh demo</c>: writes a small seeded zoo of synthetic models as feature files (one with
/// per-layer widths in safetensors), then scores every model pair with the four main metrics
/// through the same path as <c>prh matrix</c>.
/// </summary>
internal static class DemoCommand
{
    public static Command Build()
    {
        var output = new Option<string?>("--out") { Description = "Folder for the generated feature files (default: a new temporary folder)" };
        var samples = new Option<int>("--samples") { Description = "Inputs per model (N)", DefaultValueFactory = _ => 256 };
        var command = new Command("demo", "Generate a seeded zoo of synthetic models and print their all-pairs alignment matrices.") { output, samples };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            int n = parse.GetValue(samples);
            string folder = parse.GetValue(output) ?? Directory.CreateTempSubdirectory("prh-demo-").FullName;
            Directory.CreateDirectory(folder);
            var paths = new List<string>();
            (string Name, int Layers, int Width)[] zoo = [("vit_small", 8, 96), ("vit_base", 12, 128), ("llama_tiny", 10, 112), ("bert_mini", 6, 64)];
            for (int m = 0; m < zoo.Length; m++)
            {
                var model = SyntheticZoo.Model(zoo[m].Name, n, zoo[m].Layers, zoo[m].Width, seed: 100 + m);
                string path = Path.Combine(folder, zoo[m].Name + ".npy");
                FeatureFile.Save(path, model);
                paths.Add(path);
            }
            // A ConvNet-like model whose layers differ in width: one tensor per layer.
            var widths = new[] { 32, 64, 64, 128, 128 };
            var convLayers = widths.Select((w, l) => SyntheticZoo.Model("convnet", n, 1, w, seed: 200 + l).Layers[0]).ToList();
            string convPath = Path.Combine(folder, "convnet.safetensors");
            FeatureFile.Save(convPath, new ModelFeatures("convnet", convLayers));
            paths.Add(convPath);

            Console.Out.WriteLine($"demo zoo: {paths.Count} models, N = {n}, in {folder}");
            var inputs = new FeatureInputs(FeaturePreparation.DefaultQuantile);
            var sketches = paths.Select(inputs.Sketch).ToList();
            foreach (string metric in new[] { "mutual_knn", "cka", "unbiased_cka", "cknna" })
            {
                var spec = MetricSpec.ForComputeScore(metric, 10);
                var matrix = AlignmentScoring.ComputeAlignment(sketches, sketches, spec, symmetric: true);
                Console.Out.WriteLine($"\n{spec}");
                Console.Out.Write(Table.Render(matrix.Scores, i => Path.GetFileNameWithoutExtension(paths[i]),
                    j => Path.GetFileNameWithoutExtension(paths[j]), (_, _) => false));
            }
            return 0;
        }));
        return command;
    }
}
