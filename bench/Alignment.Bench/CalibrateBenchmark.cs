using System.Diagnostics;
using System.Globalization;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Bench;

/// <summary>
/// Permutation calibration of a whole zoo in this process, through the tile engine: the M models of
/// <c>prh-bench allpairs</c> (<see cref="AllPairsBenchmark.ZooFeatures"/>: 13 x 768 and 25 x 1024 alternating, N = 1024),
/// prepared and sketched (not timed), one symmetric tile of every model pair (compute_alignment's i &lt;= j) with
/// mutual_knn@10 and cka, scored uncalibrated (best of two passes, one before and one after the calibrated pass, so a
/// busy machine shows as their spread) and then calibrated with K seeded permutations (layer max). It prints one table:
/// the machine's GEMM peak measured in the same run, one uncalibrated pass, the calibrated pass, seconds per draw
/// against one uncalibrated pass (goal ≤ 1.2x), the whole calibration's time (goal ≤ 8 minutes at K = 200; a smaller
/// K is extrapolated to --target draws and says so), and per kind of product the seconds of one uncalibrated pass and
/// of one draw ((calibrated totals - one uncalibrated pass) / K), with the gather of the permuted kernels timed apart.
/// Usage: prh-bench calibrate [--models M] [--samples N] [--permutations K] [--target K] [--metrics mutual_knn@10,cka] [--seed S]
/// </summary>
public static class CalibrateBenchmark
{
    /// <summary>Layers the gather estimate times (scaled to the block's layer count): enough to average, few enough to unfold beside the zoo.</summary>
    private const int GatherSampleLayers = 20;

    public static int Run(string[] args)
    {
        int m = Int(args, "--models", 20), n = Int(args, "--samples", 1024), k = Int(args, "--permutations", 200), target = Int(args, "--target", 200);
        ulong seed = ulong.Parse(Option(args, "--seed") ?? "1", CultureInfo.InvariantCulture);
        var metrics = (Option(args, "--metrics") ?? "mutual_knn@10,cka").Split(',').Select(MetricSpec.Parse).ToList();
        Console.WriteLine($"prh-bench calibrate: M = {m} zoo models (13 x 768 and 25 x 1024 alternating), N = {n}, metrics {string.Join(", ", metrics.Select(x => x.Key))}, " +
            $"K = {k} seeded permutations (seed {seed}), layer max, one symmetric tile in this process");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, BLAS {Blas.Default.Description}; load average at start {LoadAverage()}");
        double peak = GemmPeak.Measure(Blas.Default);

        var watch = Stopwatch.StartNew();
        var models = new ModelSketch[m];
        for (int i = 0; i < m; i++) models[i] = new ModelSketch(FeaturePreparation.Prepare(AllPairsBenchmark.ZooFeatures(i, n)));
        var block = new SketchBlock(models);
        var request = SketchRequest.For(metrics, n);
        block.Ensure(request);
        foreach (var kernel in request.Kernels) block.Kernels(kernel);
        Console.WriteLine($"zoo generated, prepared and sketched: {block.LayerCount} layers, {watch.Elapsed.TotalSeconds:F0} s (not timed below)");

        // compute_alignment's symmetric pairs: first argument j, second i, i <= j.
        var mask = new PairMask(m, m);
        for (int j = 0; j < m; j++)
            for (int i = 0; i <= j; i++) mask[j, i] = true;
        var tileMetrics = metrics.Select(x => new TileMetric(x, mask)).ToList();
        long layerPairs = mask.Pairs().Sum(p => (long)models[p.First].LayerCount * models[p.Second].LayerCount) * metrics.Count;

        var first = new TimedTileBackend(CpuTileBackend.Default);
        double before = Timed(() => TileScorer.Score(first, block, block, tileMetrics));

        var permutations = SamplePermutations.Seeded(seed, k, n);
        var timed = new TimedTileBackend(CpuTileBackend.Default);
        IReadOnlyList<IReadOnlyList<CalibratedTilePair>> pairs = [];
        double calibrated = Timed(() => pairs = TileScorer.ScoreCalibrated(timed, block, block, tileMetrics, permutations, new CalibrationOptions()));
        var second = new TimedTileBackend(CpuTileBackend.Default);
        double after = Timed(() => TileScorer.Score(second, block, block, tileMetrics));
        double uncalibrated = Math.Min(before, after);
        var onePass = Scale((before <= after ? first : second).Totals, 1.0);
        // The calibrated pass is the observed pass (an uncalibrated one) and K draws.
        double perDraw = (calibrated - uncalibrated) / k;
        double gather = request.Kernels.Sum(kernel => GatherSeconds(block.Kernels(kernel), permutations[0]));

        var rows = new List<string[]>
        {
            new[] { "GEMM peak (float64, one single-threaded product per core)", $"{peak:F1} GFLOP/s", "" },
            new[] { $"uncalibrated pass, {layerPairs:N0} layer pairs (best of 2: {before:F2} s before, {after:F2} s after)", $"{uncalibrated:F2} s", "" },
            new[] { $"calibrated pass (observed + {k} draws)", $"{calibrated:F1} s", "" },
            new[] { "one draw", $"{perDraw:F2} s", "" },
            new[] { "one draw / one uncalibrated pass", $"{perDraw / uncalibrated:F2}x", "≤ 1.2x" },
            new[] { k == target ? $"whole calibration, K = {k}" : $"whole calibration, K = {target} (EXTRAPOLATED from K = {k}: pass + {target} x one draw)",
                $"{(k == target ? calibrated : uncalibrated + perDraw * target) / 60:F1} min", "≤ 8 min" },
        };
        Console.WriteLine();
        Console.Write(Markdown(["quantity", "value", "goal"], rows));

        var perDrawKinds = Subtract(Scale(timed.Totals, 1.0 / k), Scale(onePass, 1.0 / k));
        var kindRows = new List<string[]>();
        foreach (string kind in onePass.Keys.Union(perDrawKinds.Keys).Order(StringComparer.Ordinal))
        {
            var (s0, f0) = onePass.GetValueOrDefault(kind);
            var (s1, f1) = perDrawKinds.GetValueOrDefault(kind);
            kindRows.Add([kind, $"{s0:F2}", Rate(f0, s0), $"{s1:F2}", Rate(f1, s1)]);
            if (kind == TimedTileBackend.KernelProductsKind)
                kindRows.Add([$"  of which gathering the permuted kernels (estimated from {GatherSampleLayers} layers)", "", "", $"{gather:F2}", ""]);
        }
        double pairTime = onePass.Values.Sum(v => v.Seconds), drawTime = perDrawKinds.Values.Sum(v => v.Seconds);
        kindRows.Add(["outside the backend (scoring, aggregates, scheduling)", $"{uncalibrated - pairTime:F2}", "", $"{perDraw - drawTime:F2}", ""]);
        Console.WriteLine();
        Console.Write(Markdown(["seconds per", "uncalibrated pass", "GFLOP/s", "one draw", "GFLOP/s"], kindRows));

        var options = new CalibrationOptions();
        var summaries = new List<string[]>();
        for (int t = 0; t < metrics.Count; t++)
        {
            var stats = pairs[t].Select(p => p.Calibrate(0, options)).ToList();
            var (cutoff, reject) = MultipleTesting.BenjaminiHochberg(stats.Select(s => s.PValue).ToArray(), 0.05);
            double threshold = MultipleTesting.MaxStatisticThreshold(MultipleTesting.FamilyMaxima(pairs[t].Select(p => p.NullScores(0)).ToList()), options.Alpha);
            summaries.Add([metrics[t].Key, $"{stats.Count}", Median(stats.Select(s => s.Calibrated)), Median(stats.Select(s => s.PValue)),
                $"{reject.Count(r => r)} (cutoff {cutoff:G4})", $"{threshold:G6}: {stats.Count(s => MultipleTesting.RejectFamilyWise(s.Observed, threshold))} above"]);
        }
        Console.WriteLine();
        Console.Write(Markdown(["metric", "model pairs", "median calibrated", "median p", "BH q = 0.05 rejects", "FWER threshold"], summaries));
        Console.WriteLine($"load average at the end {LoadAverage()}");
        return 0;
    }

    private static double Timed(Action run)
    {
        var watch = Stopwatch.StartNew();
        run();
        return watch.Elapsed.TotalSeconds;
    }

    /// <summary>
    /// Seconds one draw spends relabelling a block's kernels (<see cref="CentredKernels.GatherPermuted"/> from the unfolded
    /// N x N matrices, as the CPU backend does), timed on the first <see cref="GatherSampleLayers"/> layers and scaled to all.
    /// </summary>
    private static double GatherSeconds(CentredKernels kernels, SamplePermutation permutation)
    {
        int n = kernels.SampleCount, layers = Math.Min(GatherSampleLayers, kernels.LayerCount);
        var unfolded = Enumerable.Range(0, layers).Select(l =>
        {
            var full = new double[n * n];
            kernels.Unfold(l, full);
            return full;
        }).ToArray();
        var packed = new double[kernels.PackedSize];
        double seconds = Timed(() =>
        {
            foreach (var full in unfolded) CentredKernels.GatherPermuted(full, n, permutation, packed);
        });
        return seconds / layers * kernels.LayerCount;
    }

    private static Dictionary<string, (double Seconds, double Flops)> Scale(IReadOnlyDictionary<string, (double Seconds, double Flops, long LayerPairs)> totals, double factor) =>
        totals.ToDictionary(p => p.Key, p => (p.Value.Seconds * factor, p.Value.Flops * factor));

    private static Dictionary<string, (double Seconds, double Flops)> Scale(Dictionary<string, (double Seconds, double Flops)> totals, double factor) =>
        totals.ToDictionary(p => p.Key, p => (p.Value.Seconds * factor, p.Value.Flops * factor));

    private static Dictionary<string, (double Seconds, double Flops)> Subtract(Dictionary<string, (double Seconds, double Flops)> a, Dictionary<string, (double Seconds, double Flops)> b) =>
        a.ToDictionary(p => p.Key, p => (p.Value.Seconds - b.GetValueOrDefault(p.Key).Seconds, p.Value.Flops - b.GetValueOrDefault(p.Key).Flops));

    private static string Rate(double flops, double seconds) => flops > 0 && seconds > 0 ? $"{flops / seconds / 1e9:F1}" : "";

    /// <summary>A markdown table, columns padded to their widest cell.</summary>
    private static string Markdown(string[] header, IReadOnlyList<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        string Line(string[] cells) => "| " + string.Join(" | ", cells.Select((cell, c) => cell.PadRight(widths[c]))) + " |" + Environment.NewLine;
        return Line(header) + Line(widths.Select(w => new string('-', w)).ToArray()) + string.Concat(rows.Select(Line));
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2].ToString("G4", CultureInfo.InvariantCulture);
    }

    private static int Int(string[] args, string name, int fallback) =>
        Option(args, name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
