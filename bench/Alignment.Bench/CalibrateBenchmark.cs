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
/// mutual_knn@10 and cka, scored once uncalibrated and then calibrated with K seeded permutations (layer max):
/// seconds per draw against one uncalibrated pass of the same tile (goal ≤ 1.2x), the whole calibration's time
/// (goal ≤ 8 minutes at K = 200), where the time went per kind of product, and the machine's GEMM peak in the
/// same run. A smaller --permutations K is extrapolated to --target draws (200), and says so.
/// Usage: prh-bench calibrate [--models M] [--samples N] [--permutations K] [--target K] [--metrics mutual_knn@10,cka] [--seed S]
/// </summary>
public static class CalibrateBenchmark
{
    public static int Run(string[] args)
    {
        int m = Int(args, "--models", 20), n = Int(args, "--samples", 1024), k = Int(args, "--permutations", 200), target = Int(args, "--target", 200);
        ulong seed = ulong.Parse(Option(args, "--seed") ?? "1", CultureInfo.InvariantCulture);
        var metrics = (Option(args, "--metrics") ?? "mutual_knn@10,cka").Split(',').Select(MetricSpec.Parse).ToList();
        Console.WriteLine($"calibrate: M = {m} zoo models (13 x 768 and 25 x 1024 alternating), N = {n}, metrics {string.Join(", ", metrics.Select(x => x.Key))}, " +
            $"K = {k} seeded permutations (seed {seed}), layer max, one symmetric tile in this process");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, BLAS {Blas.Default.Description}");
        double peak = GemmPeak.Measure(Blas.Default);
        Console.WriteLine($"GEMM peak (float64, one single-threaded product per core at once): {peak:F1} GFLOP/s");

        var watch = Stopwatch.StartNew();
        var models = new ModelSketch[m];
        for (int i = 0; i < m; i++) models[i] = new ModelSketch(FeaturePreparation.Prepare(AllPairsBenchmark.ZooFeatures(i, n)));
        var block = new SketchBlock(models);
        block.Ensure(SketchRequest.For(metrics, n));
        foreach (var kernel in SketchRequest.For(metrics, n).Kernels) block.Kernels(kernel);
        Console.WriteLine($"zoo generated, prepared and sketched: {block.LayerCount} layers, {watch.Elapsed.TotalSeconds:F0} s (not timed below)");

        // compute_alignment's symmetric pairs: first argument j, second i, i <= j.
        var mask = new PairMask(m, m);
        for (int j = 0; j < m; j++)
            for (int i = 0; i <= j; i++) mask[j, i] = true;
        var tileMetrics = metrics.Select(x => new TileMetric(x, mask)).ToList();
        long layerPairs = mask.Pairs().Sum(p => (long)models[p.First].LayerCount * models[p.Second].LayerCount) * metrics.Count;

        var plain = new TimedTileBackend(CpuTileBackend.Default);
        double uncalibrated = double.MaxValue;
        for (int r = 0; r < 2; r++)
        {
            watch.Restart();
            TileScorer.Score(plain, block, block, tileMetrics);
            uncalibrated = Math.Min(uncalibrated, watch.Elapsed.TotalSeconds);
        }
        Console.WriteLine($"uncalibrated pass: {uncalibrated:F2} s (best of 2) for {layerPairs:N0} layer pairs");
        Breakdown(plain, 2);

        var permutations = SamplePermutations.Seeded(seed, k, n);
        var timed = new TimedTileBackend(CpuTileBackend.Default);
        watch.Restart();
        var pairs = TileScorer.ScoreCalibrated(timed, block, block, tileMetrics, permutations, new CalibrationOptions());
        double calibrated = watch.Elapsed.TotalSeconds;
        double perDraw = (calibrated - uncalibrated) / k;
        Console.WriteLine($"calibrated pass: {calibrated:F1} s = the observed pass + {k} draws; {perDraw:F3} s per draw = {perDraw / uncalibrated:F2}x one uncalibrated pass (goal ≤ 1.2x)");
        Breakdown(timed, k + 1);
        double whole = uncalibrated + perDraw * target;
        Console.WriteLine(k == target
            ? $"whole calibration at K = {k}: {calibrated / 60:F1} min (goal ≤ 8 min)"
            : $"whole calibration at K = {target}, extrapolated from K = {k}: {whole / 60:F1} min (goal ≤ 8 min)");

        var options = new CalibrationOptions();
        for (int t = 0; t < metrics.Count; t++)
        {
            var stats = pairs[t].Select(p => p.Calibrate(0, options)).ToList();
            var (cutoff, reject) = MultipleTesting.BenjaminiHochberg(stats.Select(s => s.PValue).ToArray(), 0.05);
            var family = MultipleTesting.FamilyMaxima(pairs[t].Select(p => p.NullScores(0)).ToList());
            double threshold = MultipleTesting.MaxStatisticThreshold(family, options.Alpha);
            Console.WriteLine($"  {metrics[t].Key}: {stats.Count} model pairs, median calibrated {Median(stats.Select(s => s.Calibrated))}, " +
                $"median p {Median(stats.Select(s => s.PValue))}, BH q = 0.05 rejects {reject.Count(r => r)} (cutoff {cutoff:G4}), " +
                $"FWER threshold {threshold:G6} exceeded by {stats.Count(s => MultipleTesting.RejectFamilyWise(s.Observed, threshold))}");
        }
        return 0;
    }

    /// <summary>Seconds per pass spent in each kind of product.</summary>
    private static void Breakdown(TimedTileBackend backend, int passes)
    {
        foreach (var (kind, (seconds, flops, _)) in backend.Totals.OrderBy(p => p.Key, StringComparer.Ordinal))
            Console.WriteLine($"  {kind,-18} {seconds / passes,8:F3} s per pass" + (flops > 0 ? $", {flops / seconds / 1e9:F1} GFLOP/s" : ""));
    }

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
