using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Prh.Alignment.Calibration;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;
using Prh.Client.Sweeps;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Bench;

/// <summary>
/// All pairs through the cluster: a seeded zoo of M models (alternating 13 layers x D=768 and 25 layers
/// x D=1024, N=1024, float32 .npy (float16 with --float16, which halves the features' disk for the largest zoos and
/// changes no arithmetic: layers are read into float64 either way), put straight into the cluster's file store), one sweep over them, and
/// a table of where the time went (per phase, from the silos' own counters), the tile products' GFLOP/s
/// against this machine's GEMM peak measured in the same run, resident memory, store bytes, and the
/// largest difference of a sample of pairs from the per-pair path (compute_score in this process on the
/// same files). Optionally models added to the scored sweep (incremental), and S silo processes on
/// loopback (Redis clustering) instead of one embedded silo. With --calibrate K, the scored sweep is then
/// calibrated (K seeded permutations, layer max, the same models and store: every pair's K draws, the observed
/// pass again): seconds per draw against the uncalibrated sweep's tile time (goal ≤ 1.2x) and the whole calibration
/// (goal ≤ 8 minutes at K = 200; a smaller K is extrapolated to 200 and says so). The zoo lives in a scratch folder
/// that is deleted afterwards unless --keep.
/// Usage: prh-bench allpairs --models M [--metrics mutual_knn@10,cka] [--add K] [--calibrate K] [--silos S] [--budget BYTES]
///        [--samples N] [--float16] [--scratch DIR] [--keep] [--prh PATH (the prh executable, for --silos)]
/// </summary>
public static class AllPairsBenchmark
{
    public static async Task<int> Run(string[] args)
    {
        int m = int.Parse(Option(args, "--models") ?? "20", CultureInfo.InvariantCulture);
        int n = int.Parse(Option(args, "--samples") ?? "1024", CultureInfo.InvariantCulture);
        int add = int.Parse(Option(args, "--add") ?? "0", CultureInfo.InvariantCulture);
        int silos = int.Parse(Option(args, "--silos") ?? "0", CultureInfo.InvariantCulture);
        int calibrate = int.Parse(Option(args, "--calibrate") ?? "0", CultureInfo.InvariantCulture);
        long? budget = Option(args, "--budget") is { } b ? long.Parse(b, CultureInfo.InvariantCulture) : null;
        var metrics = (Option(args, "--metrics") ?? "mutual_knn@10,cka").Split(',').Select(MetricSpec.Parse).ToList();
        string scratch = Option(args, "--scratch") ?? Path.Combine(Path.GetTempPath(), $"prh-allpairs-{Guid.NewGuid():N}"[..24]);
        bool keep = args.Contains("--keep");
        var (dtype, valueBytes) = args.Contains("--float16") ? (TensorDType.Float16, 2) : (TensorDType.Float32, sizeof(float));
        Directory.CreateDirectory(scratch);
        // The zoo's features, stored sketches of about the size of float32 features, and room for the tiles' results:
        // refused at the start when the scratch disk cannot hold them (a full disk would fail tiles hours in).
        long needed = (long)((m + add) * n * (13 * 768 + 25 * 1024) / 2.0 * (valueBytes + 1.2 * sizeof(float)));
        long free = new DriveInfo(Path.GetFullPath(scratch)).AvailableFreeSpace;
        if (free < needed)
        {
            Console.Error.WriteLine($"prh-bench allpairs: M = {m + add} needs about {needed / 1e9:F0} GB in {scratch} (features, sketches, results); " +
                $"{free / 1e9:F0} GB are free there. Give --scratch DIR on a larger disk.");
            Directory.Delete(scratch);
            return 1;
        }
        try
        {
            Console.WriteLine($"all pairs: M = {m} models (13 x 768 and 25 x 1024 alternating), N = {n}, metrics {string.Join(", ", metrics.Select(x => x.Key))}" +
                $"{(add > 0 ? $", then {add} added" : "")}; {(silos == 0 ? "one embedded silo" : $"{silos} silo processes on loopback")}; scratch {scratch}");
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores, BLAS {Blas.Default.Description}");
            double peak = GemmPeak.Measure(Blas.Default);
            Console.WriteLine($"GEMM peak (float64, one single-threaded product per core at once): {peak:F1} GFLOP/s");

            var store = new FileBlobStore(Path.Combine(scratch, "store"));
            var watch = Stopwatch.StartNew();
            var zoo = await Generate(store, 0, m + add, n, dtype);
            long featureBytes = zoo.Take(m).Sum(z => z.Blob.Length);
            Console.WriteLine($"zoo generated into the store: {m + add} models, {featureBytes / 1e9:F2} GB of {dtype.ToString().ToLowerInvariant()} features for the first {m}, " +
                $"{watch.Elapsed.TotalSeconds:F0} s (not timed below)");

            await using var cluster = await BenchCluster.Start(silos, store.RootDirectory, budget, Option(args, "--prh"));
            using var phases = new PhaseListener();
            var first = await Sweep(cluster, "allpairs", zoo.Take(m).ToList(), metrics);
            var counters = await cluster.Client.GetGrain<IAggregatorGrain>(Dataset).GetCountersAsync();
            var firstPhases = silos == 0 ? phases.Totals() : await cluster.Phases();
            long rss = cluster.PeakResidentBytes();
            long storeBytes = DirectoryBytes(store.RootDirectory) - featureBytes - zoo.Skip(m).Sum(z => z.Blob.Length);
            Report($"sweep of M = {m}", first, counters.TilesScored, counters.LayerPairsScored, firstPhases, peak, rss, featureBytes, storeBytes);
            if (silos > 0)
                Console.WriteLine("  per silo (tiles scored, sketch jobs run): " +
                    string.Join("; ", (await cluster.WorkPerSilo()).Select((w, s) => $"silo {s + 1}: {w.Tiles} tiles, {w.Sketches} sketch jobs")));
            await Compare(cluster, "allpairs", zoo.Take(m).ToList(), metrics, store);
            if (calibrate > 0)
                await Calibrate(cluster, zoo.Take(m).ToList(), metrics, calibrate, first, peak, silos == 0 ? () => Task.FromResult(phases.Totals()) : cluster.Phases);

            if (add > 0)
            {
                cluster.ResetPeakResident();
                var before = counters;
                var second = await Sweep(cluster, "allpairs", zoo.ToList(), metrics);
                var after = await cluster.Client.GetGrain<IAggregatorGrain>(Dataset).GetCountersAsync();
                long expected = ExpectedRow(zoo, m, metrics);
                var addPhases = Subtract(silos == 0 ? phases.Totals() : await cluster.Phases(), firstPhases);
                Report($"adding {add} model{(add > 1 ? "s" : "")} to M = {m}", second, after.TilesScored - before.TilesScored, after.LayerPairsScored - before.LayerPairsScored,
                    addPhases, peak, cluster.PeakResidentBytes(), 0, DirectoryBytes(store.RootDirectory) - featureBytes - zoo.Skip(m).Sum(z => z.Blob.Length) - storeBytes);
                Console.WriteLine($"  layer pairs scored {after.LayerPairsScored - before.LayerPairsScored} = the added models' row, {expected} " +
                    $"({(after.LayerPairsScored - before.LayerPairsScored == expected ? "exactly" : "NOT")}); {second.Seconds / first.Seconds:P1} of the full sweep's time");
            }
            return 0;
        }
        finally
        {
            if (!keep) Directory.Delete(scratch, recursive: true);
        }
    }

    private const string Dataset = "allpairs-zoo";

    private sealed record ZooModel(string Id, BlobRef Blob, int Layers, int Width);

    /// <summary>Zoo model <paramref name="index"/>: 13 layers x D=768 for even indices, 25 x 1024 for odd ones, seeded by its index.</summary>
    public static ModelFeatures ZooFeatures(int index, int n)
    {
        var (layers, width) = index % 2 == 0 ? (13, 768) : (25, 1024);
        return SyntheticZoo.Model($"m{index:D3}", n, layers, width, seed: 1000 + index);
    }

    /// <summary>Models start..count of the zoo, each a .npy of <paramref name="dtype"/> put into the store (two at a time: generation is parallel inside a model too).</summary>
    private static async Task<List<ZooModel>> Generate(IBlobStore store, int start, int count, int n, TensorDType dtype)
    {
        var models = new ZooModel[count - start];
        await Parallel.ForAsync(start, count, new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, cancellation) =>
        {
            var features = ZooFeatures(i, n);
            var (layers, width) = (features.Layers.Count, features.Layers[0].Width);
            string temp = Path.Combine(Path.GetTempPath(), $"prh-zoo-{Guid.NewGuid():N}.npy");
            try
            {
                FeatureFile.Save(temp, features, dtype);
                models[i - start] = new ZooModel($"m{i:D3}", await store.PutAsync(await File.ReadAllBytesAsync(temp, cancellation), cancellation), layers, width);
            }
            finally
            {
                File.Delete(temp);
            }
        });
        return [.. models];
    }

    /// <summary>The sweep's wall time and when its import ended and its last sketch was built (first poll that saw it).</summary>
    private sealed record SweepRun(double Seconds, SweepStatus Status, double Imported, double Sketched);

    /// <summary>
    /// The scored sweep calibrated: the same models, K seeded permutations. Its tiles are the observed pass and K draws, so one
    /// draw costs (its time - the uncalibrated sweep's tile time) / K, set against that tile time (sketches are not built again).
    /// </summary>
    private static async Task Calibrate(BenchCluster cluster, IReadOnlyList<ZooModel> models, IReadOnlyList<MetricSpec> metrics, int permutations, SweepRun plain,
        double peak, Func<Task<IReadOnlyDictionary<string, double>>> phases)
    {
        const int Target = CalibrationSettings.DefaultPermutations;
        var before = await phases();
        var settings = new CalibrationSettings(permutations, 0.05, 1, null, LayerAggregate.Max, CalibrationSettings.DefaultFdr);
        var run = await Sweep(cluster, "allpairs-calibrated", models, metrics, settings);
        var spent = Subtract(await phases(), before);
        double tiles = plain.Seconds - plain.Sketched, perDraw = (run.Seconds - tiles) / permutations;
        Console.WriteLine();
        Console.WriteLine($"calibrating the sweep of M = {models.Count}: K = {permutations} seeded permutations, layer max, {run.Seconds:F1} s through the cluster " +
            $"({run.Status.Scoring!.TileCount} tiles)");
        foreach (string phase in new[] { "block load", "kernel products", "neighbour counts", "pair metrics", "results" })
            if (spent.TryGetValue(phase, out double s) && s > 0) Console.WriteLine($"  {phase,-20} {s,9:F2}");
        if (spent.TryGetValue("kernel products", out double kernelSeconds) && kernelSeconds > 0 && spent.TryGetValue("kernel flops", out double flops))
            Console.WriteLine($"  tile kernel products: {flops / kernelSeconds / 1e9:F1} GFLOP/s = {flops / kernelSeconds / 1e9 / peak:P0} of the GEMM peak ({peak:F1})");
        var rows = new List<string[]>
        {
            new[] { "GEMM peak (float64, one single-threaded product per core)", $"{peak:F1} GFLOP/s", "" },
            new[] { "one uncalibrated pass (the sweep's tiles: its time after the sketches)", $"{tiles:F1} s", "" },
            new[] { $"calibrated sweep (observed + {permutations} draws)", $"{run.Seconds:F1} s", "" },
            new[] { "one draw", $"{perDraw:F2} s", "" },
            new[] { "one draw / one uncalibrated pass", $"{perDraw / tiles:F2}x", "≤ 1.2x" },
            new[] { permutations == Target ? $"whole calibration, K = {Target}" : $"whole calibration, K = {Target} (EXTRAPOLATED from K = {permutations}: pass + {Target} x one draw)",
                $"{(permutations == Target ? run.Seconds : tiles + perDraw * Target) / 60:F1} min", "≤ 8 min" },
        };
        foreach (var row in rows) Console.WriteLine($"  {row[0],-100} {row[1],14} {row[2],8}");
    }

    private static async Task<SweepRun> Sweep(BenchCluster cluster, string name, IReadOnlyList<ZooModel> models, IReadOnlyList<MetricSpec> metrics,
        CalibrationSettings? calibration = null)
    {
        var definition = new SweepDefinition(name, Dataset, models.Select(z => new ModelDefinition(z.Id, z.Blob.ToUri())).ToList(), metrics, Calibration: calibration);
        var grain = cluster.Client.GetGrain<ISweepGrain>(name);
        var watch = Stopwatch.StartNew();
        await grain.SubmitAsync(definition);
        SweepStatus status;
        string? last = null;
        var lastPrint = TimeSpan.Zero;
        double imported = 0, sketched = 0;
        while (true)
        {
            status = await grain.GetStatusAsync();
            if (imported == 0 && status.Phase != SweepPhase.Importing) imported = watch.Elapsed.TotalSeconds;
            if (sketched == 0 && status.Scoring is { LayerPairCount: > 0, SketchCount: var count, SketchesDone: var done } && done == count) sketched = watch.Elapsed.TotalSeconds;
            string line = SweepStatusText.Describe(status);
            if (status.IsFinished || (watch.Elapsed - lastPrint > TimeSpan.FromSeconds(15) && line != last))
            {
                Console.WriteLine($"  [{watch.Elapsed.TotalSeconds,6:F1} s] {line}");
                last = line;
                lastPrint = watch.Elapsed;
            }
            if (status.IsFinished) break;
            await Task.Delay(200);
        }
        if (status.Phase != SweepPhase.Completed) throw new InvalidOperationException($"sweep failed: {string.Join("; ", SweepStatusText.Errors(status))}");
        return new SweepRun(watch.Elapsed.TotalSeconds, status, imported, sketched);
    }

    private static void Report(string title, SweepRun run, long tiles, long layerPairs, IReadOnlyDictionary<string, double> phases, double peak, long rss,
        long featureBytes, long storeBytes)
    {
        Console.WriteLine();
        Console.WriteLine($"{title}: {run.Seconds:F1} s through the cluster ({tiles} tiles, {layerPairs:N0} layer pairs, {layerPairs / run.Seconds:N0} layer pairs/s); " +
            $"imports done at {run.Imported:F1} s, sketches at {run.Sketched:F1} s, tiles at {run.Seconds:F1} s");
        Console.WriteLine($"  {"phase",-20} {"seconds",9}   (sketch steps in core-seconds: layers run on every core)");
        foreach (string phase in new[] { "import", "sketch read", "grams", "neighbour lists", "kernels", "svcca bases", "sketch store", "block load",
            "kernel products", "neighbour counts", "pair metrics", "results" })
            if (phases.TryGetValue(phase, out double s) && s > 0) Console.WriteLine($"  {phase,-20} {s,9:F2}");
        if (phases.TryGetValue("kernel products", out double kernelSeconds) && kernelSeconds > 0 && phases.TryGetValue("kernel flops", out double flops))
            Console.WriteLine($"  tile kernel products: {flops / kernelSeconds / 1e9:F1} GFLOP/s = {flops / kernelSeconds / 1e9 / peak:P0} of the GEMM peak ({peak:F1})");
        if (phases.TryGetValue("grams", out double gramSeconds) && gramSeconds > 0 && phases.TryGetValue("gram flops", out double gramFlops))
            Console.WriteLine($"  Grams: {gramFlops / gramSeconds / 1e9 * Environment.ProcessorCount:F1} GFLOP/s over {Environment.ProcessorCount} cores");
        Console.WriteLine($"  peak resident memory {rss / 1e9:F2} GB; store growth {storeBytes / 1e9:F2} GB" +
            (featureBytes > 0 ? $" = {(double)storeBytes / featureBytes:P0} of the features' {featureBytes / 1e9:F2} GB" : ""));
    }

    /// <summary>The largest difference, over every layer pair of a sample of model pairs, between the cluster's stored matrices and compute_score in this process.</summary>
    private static async Task Compare(BenchCluster cluster, string name, IReadOnlyList<ZooModel> models, IReadOnlyList<MetricSpec> metrics, FileBlobStore store)
    {
        var random = new Random(5);
        // (later model, earlier model): the order compute_alignment computes (cknna's other order is its mirror).
        var sample = Enumerable.Range(0, 4).Select(_ => (random.Next(models.Count), random.Next(models.Count)))
            .Select(p => (First: models[Math.Max(p.Item1, p.Item2)], Second: models[Math.Min(p.Item1, p.Item2)])).ToList();
        var sketches = new Dictionary<string, ModelSketch>();
        ModelSketch Sketch(ZooModel z) => sketches.TryGetValue(z.Id, out var s) ? s
            : sketches[z.Id] = new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Open(store.LocalPath(z.Blob)!, FeatureFormat.Npy)));
        var grain = cluster.Client.GetGrain<ISweepGrain>(name);
        foreach (var metric in metrics)
        {
            double worst = 0;
            foreach (var (first, second) in sample)
            {
                var stored = await grain.GetPairAsync(metric.Key, first.Id, second.Id);
                var direct = AlignmentScoring.ComputeScore(Sketch(first), Sketch(second), metric);
                for (int i = 0; i < stored.Scores.Length; i++)
                    for (int j = 0; j < stored.Scores[i].Length; j++) worst = Math.Max(worst, Math.Abs(stored.Scores[i][j] - direct.Scores[i, j]));
            }
            Console.WriteLine($"  {metric.Key}: largest difference from the per-pair path over {sample.Count} model pairs' layer pairs: {worst:E2}");
        }
    }

    /// <summary>Layer pairs the added models' row holds: for mirrored metrics each added model against every model up to itself, for cycle_knn against every model both
    /// ways.</summary>
    private static long ExpectedRow(IReadOnlyList<ZooModel> zoo, int m, IReadOnlyList<MetricSpec> metrics)
    {
        long total = 0;
        foreach (var metric in metrics)
            for (int j = m; j < zoo.Count; j++)
                for (int i = 0; i < zoo.Count; i++)
                {
                    bool mirrored = metric.Mirrored;
                    if (mirrored && i > j) continue;
                    long pairs = (long)zoo[i].Layers * zoo[j].Layers;
                    total += !mirrored && i < m ? 2 * pairs : pairs;
                }
        return total;
    }


    private static IReadOnlyDictionary<string, double> Subtract(IReadOnlyDictionary<string, double> after, IReadOnlyDictionary<string, double> before) =>
        after.ToDictionary(p => p.Key, p => p.Value - before.GetValueOrDefault(p.Key));

    private static long DirectoryBytes(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    /// <summary>The phase seconds and flops the silos in this process count (meter Prh), as the table reads them.</summary>
    private sealed class PhaseListener : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, double> _totals = [];

        public PhaseListener()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == PrhTelemetry.Name && instrument.Name is "prh.phase.seconds" or "prh.tile.kernel_flops")
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            {
                string key = instrument.Name == "prh.tile.kernel_flops" ? "kernel flops" : "";
                foreach (var tag in tags) if (tag.Key == "prh.phase") key = (string)tag.Value!;
                lock (_totals) _totals[key] = _totals.GetValueOrDefault(key) + value;
            });
            _listener.Start();
        }

        public IReadOnlyDictionary<string, double> Totals()
        {
            lock (_totals) return new Dictionary<string, double>(_totals);
        }

        public void Dispose() => _listener.Dispose();
    }
}
