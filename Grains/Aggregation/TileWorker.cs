using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Compute;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Runs aggregator jobs on this silo in the background of the silo rather than of a grain, so a job
/// outlives the grain call that queued it. A sketch job builds
/// one model's missing pieces; a tile job loads its two blocks (kept for the next tile while the memory
/// budget allows: consecutive tiles of a row share a block), scores them, stores the results and reports
/// to the aggregator that sent it.
/// </summary>
public sealed class TileWorker
{
    private readonly Channel<WorkerJob> _queue = Channel.CreateUnbounded<WorkerJob>();
    private readonly ConcurrentDictionary<string, WorkerJob> _jobs = new();
    private readonly SketchStore _sketches;
    private readonly IBlobStore _store;
    private readonly IGrainFactory _grains;
    private readonly ILogger<TileWorker> _logger;
    private readonly BlockCache _blocks;
    private readonly Lazy<Task> _loop;

    public TileWorker(SketchStore sketches, IBlobStore store, IGrainFactory grains, IOptions<TileOptions> options, ILocalSiloDetails silo, ILogger<TileWorker> logger)
    {
        _sketches = sketches;
        _store = store;
        _grains = grains;
        _logger = logger;
        Silo = silo.SiloAddress.ToParsableString();
        Backend = new TimedTileBackend(new CpuTileBackend(Blas.Default, options.Value.MemoryBudget));
        _blocks = new BlockCache(options.Value.MemoryBudget);
        _loop = new Lazy<Task>(() => Task.Run(Loop));
    }

    /// <summary>This silo's address, the key of its worker grain.</summary>
    public string Silo { get; }

    /// <summary>The tile products' backend, timed: seconds and flops per kind of product.</summary>
    public TimedTileBackend Backend { get; }

    public IReadOnlyList<string> Jobs => _jobs.Keys.ToList();

    private long _tilesScored;

    /// <summary>Sketch pieces this silo built (and stored): by sketch jobs, and again where a tile found one unusable.</summary>
    public long PiecesBuilt => _sketches.PiecesBuilt;

    /// <summary>Tiles this silo scored.</summary>
    public long TilesScored => Interlocked.Read(ref _tilesScored);

    public void Enqueue(WorkerJob job)
    {
        if (!_jobs.TryAdd(job.Id, job)) return; // already here: a repeated request
        _queue.Writer.TryWrite(job);
        _ = _loop.Value;
    }

    /// <summary>
    /// Jobs in the order they came: sketch jobs two at a time (one's reading and storing overlaps the
    /// other's Grams), a tile alone (its blocks take the memory budget, its products every core).
    /// </summary>
    private async Task Loop()
    {
        var sketches = new List<Task>();
        await foreach (var job in _queue.Reader.ReadAllAsync())
        {
            if (job.Sketch is not null)
            {
                while (sketches.Count >= SketchesAtOnce) sketches.Remove(await Task.WhenAny(sketches));
                sketches.Add(Task.Run(() => RunAndReport(job)));
                continue;
            }
            await Task.WhenAll(sketches);
            sketches.Clear();
            await RunAndReport(job);
        }
    }

    private const int SketchesAtOnce = 2;

    /// <summary>The job is this worker's until its end is reported: a liveness check in between must not think it lost.</summary>
    private async Task RunAndReport(WorkerJob job)
    {
        var outcome = await Run(job);
        await Report(job, outcome);
        _jobs.TryRemove(job.Id, out _);
    }

    private async Task<JobOutcome> Run(WorkerJob job)
    {
        try
        {
            if (job.Sketch is { } sketch)
            {
                int built = await _sketches.BuildAsync(sketch.Features, sketch.Request);
                PrhTelemetry.SketchesBuilt.Add(1);
                return new JobOutcome(job.Id, Silo, SketchPiecesBuilt: built);
            }
            return await Tile(job.Id, job.Tile!);
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            return new JobOutcome(job.Id, Silo, Outage: outage.Message);
        }
        catch (Exception e) when (SiloFailures.Find<LostBlobException>(e) is { } lost)
        {
            return new JobOutcome(job.Id, Silo, Lost: lost.Blob, Error: lost.Message);
        }
        catch (Exception e) when (Refusals.IsInputFault(e) || SiloFailures.IsRefusal(e))
        {
            _logger.LogWarning(e, "job {Job} refused", job.Id);
            return new JobOutcome(job.Id, Silo, Error: (Refusals.InputFault(e) ?? e).Message, Refused: true);
        }
        catch (Exception e)
        {
            _logger.LogWarning(e, "job {Job} failed", job.Id);
            return new JobOutcome(job.Id, Silo, Error: e.Message);
        }
    }

    private async Task<JobOutcome> Tile(string id, TileJob tile)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.tile");
        span?.SetTag("prh.backend", Backend.Description);
        span?.SetTag("prh.silo", Silo);
        span?.SetTag("prh.metrics", string.Join(",", tile.Metrics.Select(m => m.Metric.Key)));
        span?.SetTag("prh.models", tile.Firsts.Count + tile.Seconds.Count);
        var watch = Stopwatch.StartNew();
        // A metric these models cannot take (cknna's topk above N, svcca's cca_dim above a width) fails alone.
        var errors = new Dictionary<string, string>();
        var metrics = new List<(TileJobMetric Job, MetricSpec Spec)>();
        foreach (var metric in tile.Metrics)
        {
            var spec = metric.Metric;
            try
            {
                foreach (var model in tile.Firsts.Concat(tile.Seconds)) spec.Validate(model.SampleCount, model.LayerWidths, $"features {model.Blob}");
                metrics.Add((metric, spec));
            }
            catch (AlignmentException e)
            {
                errors[metric.Metric.Key] = e.Message;
            }
        }
        if (metrics.Count == 0) return new JobOutcome(id, Silo, MetricErrors: errors);

        int n = tile.Firsts[0].SampleCount;
        var request = SketchRequest.For(metrics.Select(m => m.Spec), n);
        var phase = Stopwatch.StartNew();
        var (first, second, rebuilt) = await _blocks.Load(tile, request, _sketches);
        PrhTelemetry.Phase("block load", phase.Elapsed.TotalSeconds);
        var masks = metrics.Select(m =>
        {
            var mask = new PairMask(tile.Firsts.Count, tile.Seconds.Count);
            for (int f = 0; f < tile.Firsts.Count; f++)
                for (int s = 0; s < tile.Seconds.Count; s++) mask[f, s] = m.Job.Has(f * tile.Seconds.Count + s);
            return new TileMetric(m.Spec, mask);
        }).ToList();
        var before = Backend.Totals;
        var scores = new List<TileMetricScores>();
        var plain = Enumerable.Range(0, metrics.Count).Where(m => metrics[m].Job.Calibration is null).ToList();
        if (plain.Count > 0)
        {
            var scored = await Task.Run(() => TileScorer.Score(Backend, first, second, plain.Select(m => masks[m]).ToList()));
            scores.AddRange(plain.Select((m, i) => new TileMetricScores(metrics[m].Spec.Key, metrics[m].Spec.Symmetric, scored[i])));
        }
        // Calibrated metrics, by their settings: one observed pass and K permuted ones over the tile, the sweep's permutations.
        foreach (var group in Enumerable.Range(0, metrics.Count).Where(m => metrics[m].Job.Calibration is not null).GroupBy(m => metrics[m].Job.Calibration!))
        {
            var settings = group.Key;
            var permutations = await Permutations(settings, n);
            var calibrated = await Task.Run(() => TileScorer.ScoreCalibrated(Backend, first, second, group.Select(m => masks[m]).ToList(), permutations,
                settings.Options().WithTransposes()));
            scores.AddRange(group.Select((m, i) => new TileMetricScores(metrics[m].Spec.Key, metrics[m].Spec.Symmetric,
                calibrated[i].Select(p => new TilePairScore(p.First, p.Second, p.Scores)).ToList(), TileResults.CalibratedKey(metrics[m].Spec, settings), calibrated[i])));
        }
        foreach (var (kind, (seconds, flops, _)) in Backend.Totals)
        {
            var (s0, f0, _) = before.GetValueOrDefault(kind);
            PrhTelemetry.Phase(kind, seconds - s0);
            if (flops > f0) PrhTelemetry.KernelProductFlops.Add(flops - f0);
        }
        phase.Restart();
        var (summary, matrices) = TileResults.Encode(tile.Firsts.Select(f => f.Blob.Sha256).ToList(), tile.Seconds.Select(s => s.Blob.Sha256).ToList(), scores);
        var record = new TileRecord(id, await _store.PutAsync(summary), await _store.PutAsync(matrices),
            scores.Sum(s => s.Scores.Sum(p => (long)p.Scores.Scores.Length)), scores.Sum(s => s.Scores.Count));

        PrhTelemetry.Phase("results", phase.Elapsed.TotalSeconds);
        foreach (var metric in scores)
        {
            var tag = new KeyValuePair<string, object?>("prh.metric", metric.MetricKey);
            PrhTelemetry.PairsScored.Add(metric.Scores.Count, tag);
            PrhTelemetry.LayerPairsScored.Add(metric.Scores.Sum(p => (long)p.Scores.Scores.Length), tag);
        }
        PrhTelemetry.TilesScored.Add(1);
        Interlocked.Increment(ref _tilesScored);
        PrhTelemetry.TileSeconds.Record(watch.Elapsed.TotalSeconds);
        span?.SetTag("prh.layer_pairs", record.LayerPairs);
        span?.SetTag("prh.pairs", record.Pairs);
        return new JobOutcome(id, Silo, Tile: record, MetricErrors: errors.Count > 0 ? errors : null, SketchPiecesBuilt: rebuilt);
    }

    /// <summary>
    /// A calibration's K permutations of N samples: seeded ones drawn here, recorded ones read from the store (the sweep
    /// stored them), kept for the next tiles of the same sweep.
    /// </summary>
    private async Task<SamplePermutations> Permutations(CalibrationSettings settings, int sampleCount)
    {
        string key = $"{settings.NullKey}/N{sampleCount}";
        if (_permutations.TryGetValue(key, out var known)) return known;
        byte[]? bytes = BlobRef.TryParseUri(settings.PermutationsFile, out var blob) ? await _store.GetAsync(blob) : null;
        var drawn = settings.Draw(sampleCount, "calibration.permutations", bytes: bytes);
        _permutations.Clear(); // one sweep's set at a time is what tiles in a row share
        _permutations[key] = drawn;
        return drawn;
    }

    private readonly ConcurrentDictionary<string, SamplePermutations> _permutations = new();

    /// <summary>Tells the aggregator, retrying while its silo fails (it re-activates elsewhere).</summary>
    private async Task Report(WorkerJob job, JobOutcome outcome)
    {
        try
        {
            await SiloFailures.Retry(() => _grains.GetGrain<IAggregatorGrain>(job.Dataset).JobEndedAsync(outcome), budget: TimeSpan.FromMinutes(2));
        }
        catch (Exception e)
        {
            // The aggregator finds the job missing from this worker and schedules it again.
            _logger.LogWarning(e, "could not report job {Job} to aggregator {Dataset}", job.Id, job.Dataset);
        }
    }

    /// <summary>
    /// The blocks of recent tiles, at most two (a tile's worth: the planner sizes tiles so two blocks fit
    /// the memory budget), and the kernel stacks of evicted blocks, reused for the next ones: fresh memory
    /// costs more than a copy on machines that fault pages in lazily. Every stack is allocated with a
    /// quarter more room than its block needs (within the budget), so the blocks of a sweep, which
    /// differ by a model or so, reuse each other's and the stacks stay at two blocks' worth.
    /// </summary>
    private sealed class BlockCache(long memoryBudget)
    {
        private readonly Lock _lock = new();
        private readonly List<(string Key, SketchBlock Block, List<double[]> Arrays)> _blocks = [];
        private readonly List<double[]> _free = [];

        public async Task<(SketchBlock First, SketchBlock Second, int Rebuilt)> Load(TileJob tile, SketchRequest request, SketchStore sketches)
        {
            string firstKey = Key(tile.Firsts, request), secondKey = tile.SameModels ? firstKey : Key(tile.Seconds, request);
            lock (_lock)
            {
                // Only this tile's blocks stay: the others' memory is reused for what this tile loads.
                foreach (var entry in _blocks.Where(b => b.Key != firstKey && b.Key != secondKey).ToList())
                {
                    _blocks.Remove(entry);
                    _free.AddRange(entry.Arrays);
                }
            }
            var (first, r1) = await Get(firstKey, tile.Firsts, request, sketches);
            var (second, r2) = tile.SameModels ? (first, 0) : await Get(secondKey, tile.Seconds, request, sketches);
            return (first, second, r1 + r2);
        }

        private async Task<(SketchBlock, int)> Get(string key, IReadOnlyList<StoredFeatures> models, SketchRequest request, SketchStore sketches)
        {
            lock (_lock)
                if (_blocks.FirstOrDefault(b => b.Key == key) is { Block: not null } hit) return (hit.Block, 0);
            var arrays = new List<double[]>();
            long capacity = memoryBudget / 2 / sizeof(double) / Math.Max(1, request.Kernels.Count);
            var (block, rebuilt) = await sketches.LoadBlockAsync(models, request, (kernel, layers) =>
            {
                long length = CentredKernels.PackedLength(models[0].SampleCount) * (long)layers;
                var array = Rent(length, capacity);
                arrays.Add(array);
                return array.AsMemory(0, (int)length);
            });
            lock (_lock) _blocks.Add((key, block, arrays));
            return (block, rebuilt);
        }

        private double[] Rent(long length, long capacity)
        {
            lock (_lock)
            {
                var fit = _free.Where(a => a.LongLength >= length).OrderBy(a => a.LongLength).FirstOrDefault();
                if (fit is not null)
                {
                    _free.Remove(fit);
                    return fit;
                }
                _free.Clear(); // only a block larger than the budget allows (one model alone) gets here: let the collector have the rest
            }
            return GC.AllocateUninitializedArray<double>(checked((int)Math.Min(Array.MaxLength, Math.Max(length, Math.Min(capacity, length + length / 4)))));
        }

        private static string Key(IReadOnlyList<StoredFeatures> models, SketchRequest request) =>
            string.Join(",", models.Select(m => m.Blob.Sha256)) + "|" + request.NeighbourColumns + "|" +
            string.Join(",", request.Kernels) + "|" + string.Join(",", request.SvccaDimensions);
    }
}

/// <summary>A silo's tile worker as a grain, placed on the silo its key names.</summary>
[OnKeyedSilo]
public sealed class TileWorkerGrain(TileWorker worker) : Grain, ITileWorkerGrain
{
    public Task StartAsync(WorkerJob job)
    {
        worker.Enqueue(job);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<string>> GetJobsAsync() => Task.FromResult(worker.Jobs);
}
