using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Contracts;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Stored state of a dataset's aggregator: the scored tiles (each a reference to its summary and
/// matrices in the store, never the scores themselves) and what was computed. Written once per tile.
/// </summary>
[GenerateSerializer, Alias("prh.TileAggregatorState")]
public sealed class AggregatorState
{
    [Id(0)] public List<TileRecord> Tiles { get; set; } = [];
    [Id(1)] public long PairsScored { get; set; }
    [Id(2)] public long LayerPairsScored { get; set; }
    [Id(3)] public long SketchesBuilt { get; set; }
}

/// <summary>
/// Owns the all-pairs matrices of one dataset, for every metric. Entry [i][j] of compute_alignment(models,
/// models) is compute_score(prep(model j), prep(model i)); only i &lt;= j is scored (mirrored, indices
/// reversed) except for cycle_knn. Each needed pair is known by its metric and the two feature blobs'
/// hashes, and one stored the other way round serves a symmetric metric transposed, so a pair is scored
/// once whatever sweep, order or id asks for it.
/// <para>The missing pairs become tiles (<see cref="TilePlanner"/>: budget-sized blocks of models
/// against blocks, one block row for added models) and their models' missing sketches become sketch
/// jobs; both run on the silos' <see cref="ITileWorkerGrain"/>s, every silo at once, two jobs given to
/// each at a time (one running, one queued), sketches first and a silo's next tile preferably one
/// sharing a block with its last. A
/// keep-alive timer runs while work is outstanding: it dispatches, probes the store while it is out, and
/// puts back jobs whose silo left the cluster. Each finished tile is recorded by one state write.</para>
/// <para>A job that meets the store out waits for it; one whose features were lost waits until the sweep
/// has imported them again; a refusal of the input fails its pairs, which stay failed until a sweep asks
/// again; other errors are tried again, five times.</para>
/// </summary>
public sealed class AggregatorGrain(
    [PersistentState("aggregator", "prh")] IPersistentState<AggregatorState> state,
    IBlobStore store,
    SketchStore sketches,
    IClusterMembershipService membership,
    IOptions<TileOptions> options,
    ILogger<AggregatorGrain> logger) : Grain, IAggregatorGrain
{
    private const int Attempts = 5;

    /// <summary>Jobs given to a silo at once: the next one waits in its worker's queue, so no silo idles between jobs.</summary>
    private const int JobsPerSilo = 2;
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan TellInterval = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private Dictionary<PairKey, (PairSummary Pair, int Tile)>? _index;
    private readonly LinkedList<Job> _pending = new();
    private readonly Dictionary<string, (Job Job, string Silo)> _running = [];
    private readonly Dictionary<string, (Job Job, BlobRef Blob)> _lost = [];
    private readonly Dictionary<PairKey, string> _covered = []; // pairs of tiles not yet recorded, by job
    private readonly Dictionary<string, SketchRequest> _sketched = []; // features whose stored sketch holds at least this
    private readonly Dictionary<PairKey, string> _failures = [];
    private readonly Dictionary<string, Need> _metrics = []; // by key, for the metrics' rules (mirrored, symmetric)
    private readonly Dictionary<string, Work> _work = [];
    private readonly Dictionary<string, string> _lastBlock = []; // per silo, the models of its last tile's first block
    private readonly List<(Job Job, JobOutcome Outcome)> _unrecorded = []; // tiles scored while the store was out
    private string? _outage;
    private long _changes, _saved;
    private IGrainTimer? _timer;

    /// <summary>A pair of one metric (its key, or its calibrated key) by its two models' features: first and second argument of compute_score.</summary>
    private readonly record struct PairKey(string Metric, string First, string Second);

    /// <summary>
    /// What a work needs of one metric: its pairs scored, or scored and calibrated by <see cref="Calibration"/> (a calibrated
    /// tile stores both). A calibrated pair is found in its own order only: the reversed order's nulls permute the other
    /// model, a different (if as valid) null, and a matrix must not depend on which order was scored first.
    /// </summary>
    private sealed record Need(MetricSpec Metric, CalibrationSettings? Calibration)
    {
        public string Key { get; } = Calibration is null ? Metric.Key : TileResults.CalibratedKey(Metric, Calibration);
        public bool Symmetric => Metric.Symmetric && Calibration is null;
        public bool Mirrored => Metric.Mirrored;
    }

    /// <summary>A job and what it covers: a tile's pairs, or the model whose sketch it builds.</summary>
    private sealed record Job(WorkerJob Request, IReadOnlyList<PairKey> Pairs, IReadOnlyList<string> Models, SketchRequest Sketch)
    {
        public int Attempt { get; set; }
        public bool IsTile => Request.Tile is not null;
    }

    /// <summary>
    /// One Ensure'd set of metrics and models and where it stands, kept as its tiles are recorded (so its
    /// progress costs nothing to tell): the pairs it still waits for with their layer pairs, its tiles and
    /// sketch jobs, its first failure, and the sweeps that follow it.
    /// </summary>
    private sealed class Work(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration)
    {
        public string Key { get; } = AggregatorProgress.WorkOf(metrics, models, calibration);
        public IReadOnlyList<Need> Needs { get; } = metrics.Select(m => new Need(m, calibration)).ToList();
        public IReadOnlyList<ImportedModel> Models { get; } = models;
        public HashSet<string> Tiles { get; } = [];
        public HashSet<string> Sketches { get; } = [];
        public HashSet<string> Done { get; } = [];
        public Dictionary<PairKey, long> Waiting { get; } = [];
        public long LayerPairCount { get; set; }
        public long LayerPairsDone { get; set; }
        public string? Failure { get; set; }
        public HashSet<string> Followers { get; } = [];
        public DateTime LastTold { get; set; }
    }

    public async Task EnsureAsync(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration, bool retryFailed,
        string? follower)
    {
        var index = await Index();
        string workKey = AggregatorProgress.WorkOf(metrics, models, calibration);
        if (!_work.TryGetValue(workKey, out var work)) _work[workKey] = work = new Work(metrics, models, calibration);
        if (follower is not null) work.Followers.Add(follower);
        var needs = work.Needs;
        foreach (var need in needs) _metrics[need.Key] = need;
        var needed = needs.Select(n => Needed(n, models).ToList()).ToList();
        if (retryFailed)
            foreach (var (key, _, _) in needed.SelectMany(n => n)) _failures.Remove(key);

        // The work's progress from here on is kept as tiles are recorded: counted once, now.
        work.Waiting.Clear();
        (work.LayerPairCount, work.LayerPairsDone, work.Failure) = (0, 0, null);
        for (int m = 0; m < metrics.Count; m++)
            foreach (var (key, first, second) in needed[m])
            {
                long layerPairs = (long)models[first].Features.LayerWidths.Length * models[second].Features.LayerWidths.Length;
                work.LayerPairCount += layerPairs;
                if (Scored(index, key, needs[m]) is not null) work.LayerPairsDone += layerPairs;
                else
                {
                    work.Waiting[key] = layerPairs;
                    if (work.Failure is null && _failures.TryGetValue(key, out string? error))
                        work.Failure = $"{metrics[m].Key} of {models[first].Id} x {models[second].Id}: {error}";
                }
            }

        // Each metric's pairs that nothing has, nor is computing, nor waits for.
        var lostModels = _lost.Values.SelectMany(l => l.Job.Models).ToHashSet();
        var masks = new List<PairMask>();
        bool any = false;
        for (int m = 0; m < metrics.Count; m++)
        {
            var mask = new PairMask(models.Count, models.Count);
            foreach (var (key, first, second) in needed[m])
            {
                if (Scored(index, key, needs[m]) is not null || _covered.ContainsKey(key) || _failures.ContainsKey(key)) continue;
                if (lostModels.Contains(key.First) || lostModels.Contains(key.Second)) continue;
                mask[first, second] = true;
                any = true;
            }
            masks.Add(mask);
        }
        if (!any)
        {
            Tell();
            return;
        }

        int n = models[0].Features.SampleCount;
        var request = SketchRequest.For(metrics.Select(m => m), n);
        var involved = Enumerable.Range(0, models.Count).Where(x => masks.Any(mask => Enumerable.Range(0, models.Count).Any(y => mask[x, y] || mask[y, x])));
        foreach (int x in involved) await EnsureSketch(models[x].Features, request, work);

        // Models already scored among themselves come first, cut into blocks apart from the new ones:
        // the blocks they were scored in come back unchanged, and a silo that still holds one reads nothing.
        var order = Scored(index, needs, models);
        int scored = order.Count;
        order.AddRange(Enumerable.Range(0, models.Count).Where(x => !order.Contains(x)));
        var layers = order.Select(x => models[x].Features.LayerWidths.Length).ToList();
        var ordered = masks.Select(mask =>
        {
            var permuted = new PairMask(models.Count, models.Count);
            for (int a = 0; a < models.Count; a++)
                for (int b = 0; b < models.Count; b++) permuted[a, b] = mask[order[a], order[b]];
            return permuted;
        }).ToList();
        var plans = TilePlanner.Plan(layers, layers, sameModels: true, ordered, TilePlanner.LayerBytes(n, request), options.Value.MemoryBudget,
            new HashSet<int> { scored }).Select(p => p with { Firsts = p.Firsts.Select(f => order[f]).ToList(), Seconds = p.Seconds.Select(s => order[s]).ToList() }).ToList();
        foreach (var plan in plans)
        {
            var jobMetrics = new List<TileJobMetric>();
            var pairs = new List<PairKey>();
            for (int m = 0; m < metrics.Count; m++)
            {
                if (plan.Masks[m] is not { } mask) continue;
                var bits = new byte[(plan.Firsts.Count * plan.Seconds.Count + 7) / 8];
                foreach (var (f, s) in mask.Pairs())
                {
                    int bit = f * plan.Seconds.Count + s;
                    bits[bit >> 3] |= (byte)(1 << (bit & 7));
                    pairs.Add(new PairKey(needs[m].Key, models[plan.Firsts[f]].Features.Blob.Sha256, models[plan.Seconds[s]].Features.Blob.Sha256));
                }
                jobMetrics.Add(new TileJobMetric(metrics[m], bits, calibration));
            }
            var tile = new TileJob(plan.Firsts.Select(f => models[f].Features).ToList(), plan.Seconds.Select(s => models[s].Features).ToList(), plan.SameModels, jobMetrics);
            var job = new Job(new WorkerJob(JobId("tile", pairs.Select(p => $"{p.Metric}|{p.First}|{p.Second}")), this.GetPrimaryKeyString(), Tile: tile),
                pairs, plan.Firsts.Concat(plan.Seconds).Select(i => models[i].Features.Blob.Sha256).Distinct().ToList(), request);
            foreach (var pair in pairs) _covered[pair] = job.Request.Id;
            work.Tiles.Add(job.Request.Id);
            _pending.AddLast(job);
            PrhTelemetry.QueuedTiles.Add(1);
        }
        logger.LogInformation("aggregator {Dataset}: {Tiles} tiles planned for {Pairs} pairs of {Models} models", this.GetPrimaryKeyString(),
            plans.Count, masks.Sum(m => m.Count), models.Count);
        await Dispatch();
        Tell();
    }

    /// <summary>A sketch job for the model unless its stored sketch (or one being built) holds what the request asks.</summary>
    private async Task EnsureSketch(StoredFeatures features, SketchRequest request, Work work)
    {
        string sha = features.Blob.Sha256;
        if (_sketched.TryGetValue(sha, out var known) && Covers(known, request)) return;
        if (_pending.Concat(_running.Values.Select(r => r.Job)).FirstOrDefault(j => !j.IsTile && j.Models[0] == sha && Covers(j.Sketch, request)) is { } building)
        {
            work.Sketches.Add(building.Request.Id);
            return;
        }
        if (await ReadManifest(features) is { } manifest && IsEmpty(manifest.Missing(request)))
        {
            _sketched[sha] = known is null ? request : known.Union(request);
            return;
        }
        var wanted = known is null ? request : known.Union(request);
        var job = new Job(new WorkerJob(JobId("sketch", [sha, Describe(wanted)]), this.GetPrimaryKeyString(), Sketch: new SketchJob(features, wanted)),
            [], [sha], wanted);
        work.Sketches.Add(job.Request.Id);
        _pending.AddFirst(job);
    }

    private async Task<SketchManifest?> ReadManifest(StoredFeatures features)
    {
        try
        {
            return await sketches.ReadAsync(features);
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            _outage = outage.Message;
            return null;
        }
    }

    public async Task<AggregatorProgress> GetProgressAsync(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration,
        string? follower)
    {
        string key = AggregatorProgress.WorkOf(metrics, models, calibration);
        // An aggregator re-activated (its silo went away) has no record of the work in flight: plan it again.
        if (!_work.TryGetValue(key, out var work) || follower is not null && !work.Followers.Contains(follower))
            await EnsureAsync(metrics, models, calibration, retryFailed: false, follower);
        if (_saved < _changes) await TrySave();
        return Progress(_work[key]);
    }

    private AggregatorProgress Progress(Work work)
    {
        var lost = _lost.Values.Where(l => l.Job.Models.Any(m => work.Models.Any(x => x.Features.Blob.Sha256 == m))).Select(l => l.Blob).Distinct().ToList();
        int sketchesDone = work.Sketches.Count(s => !_pending.Any(j => j.Request.Id == s) && !_running.ContainsKey(s) && !_lost.ContainsKey(s));
        return new AggregatorProgress(work.Waiting.Count == 0 && _saved == _changes, _outage, lost, work.Tiles.Count(work.Done.Contains), work.Tiles.Count,
            work.LayerPairsDone, work.LayerPairCount, sketchesDone, work.Sketches.Count, work.Failure, state.State.LayerPairsScored, work.Key);
    }

    /// <summary>
    /// Tells each work's followers where it stands: at once when it has ended (done or failed), otherwise at
    /// most every half second, and every second from the keep-alive timer while work is outstanding. One-way
    /// calls: a sweep that went away costs nothing here.
    /// </summary>
    private void Tell()
    {
        var now = DateTime.UtcNow;
        foreach (var work in _work.Values)
        {
            if (work.Followers.Count == 0) continue;
            var progress = Progress(work);
            bool ended = progress.Complete || progress.Failure is not null;
            if (!ended && now - work.LastTold < TellInterval) continue;
            work.LastTold = now;
            foreach (string sweep in work.Followers) GrainFactory.GetGrain<ISweepGrain>(sweep).ProgressedAsync(progress).Ignore();
        }
    }

    public async Task RecoveredAsync(IReadOnlyList<BlobRef> features)
    {
        foreach (var (id, (job, blob)) in _lost.ToList())
        {
            if (!features.Contains(blob)) continue;
            _lost.Remove(id);
            _pending.AddFirst(job);
        }
        await Dispatch();
        Tell();
    }

    public async Task<MetricMatrix> GetMatrixAsync(MetricSpec metric, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration)
    {
        var index = await Index();
        int m = models.Count;
        bool mirror = metric.Mirrored;
        var plain = new Need(metric, null);
        var calibrated = calibration is null ? null : new Need(metric, calibration);
        var scores = new double[m][];
        var indices = new int[]?[m][];
        var tests = new Calibration[m, m];
        var nullScores = new List<double[]>();
        var tiles = new Dictionary<int, byte[]>();
        var options = calibration?.Options();
        for (int i = 0; i < m; i++) { scores[i] = new double[m]; indices[i] = new int[]?[m]; }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                // [i][j] is compute_score(prep(models[j]), prep(models[i])); a mirrored entry is [j][i] reversed.
                bool mirrored = mirror && i > j;
                var (first, second) = mirrored ? (models[i], models[j]) : (models[j], models[i]);
                var key = new PairKey(plain.Key, first.Features.Blob.Sha256, second.Features.Blob.Sha256);
                var (score, best) = Scored(index, key, plain)
                    ?? throw new RefusalException($"{metric.Key}: pair {first.Id} x {second.Id} is not scored yet");
                scores[i][j] = score;
                indices[i][j] = mirrored && best is { } b ? [b[1], b[0]] : best;
                if (calibrated is null) continue;

                // A mirrored entry's null is its mirror's with the layer aggregate transposed (CalibratedScoring.ComputeAlignment).
                if (!index.TryGetValue(key with { Metric = calibrated.Key }, out var entry) || entry.Pair.Nulls is not { } nulls)
                    throw new RefusalException($"{metric.Key}: pair {first.Id} x {second.Id} is not calibrated by {calibration!.Describe()} yet");
                if (!tiles.TryGetValue(entry.Tile, out var matrices)) tiles[entry.Tile] = matrices = await store.GetAsync(state.State.Tiles[entry.Tile].Matrices);
                var (test, values) = nulls.Calibrate(matrices, mirrored ? calibration!.Aggregate.Transposed : calibration!.Aggregate, options!);
                tests[i, j] = test;
                nullScores.Add(values);
            }
        return new MetricMatrix(metric, models.Select(x => x.Id).ToList(), scores, indices,
            calibration is null ? null : MatrixCalibration.Of(calibration, tests, nullScores));
    }

    public async Task<PairMatrix> GetPairAsync(MetricSpec metric, ImportedModel first, ImportedModel second)
    {
        var index = await Index();
        var key = new PairKey(metric.Key, first.Features.Blob.Sha256, second.Features.Blob.Sha256);
        var reversed = key with { First = key.Second, Second = key.First };
        // The order a mirrored metric did not compute is the other order transposed, as the sweep's matrix mirrors it
        // (for cknna, which is not symmetric, that is compute_alignment's own mirroring).
        bool transposed = !index.ContainsKey(key);
        if (transposed && !(metric.Mirrored && index.ContainsKey(reversed)))
            throw new RefusalException($"{metric.Key}: pair {first.Id} x {second.Id} is not scored");
        var (pair, tile) = index[transposed ? reversed : key];
        var matrix = TileResults.Matrix(await store.GetAsync(state.State.Tiles[tile].Matrices), pair);
        if (!transposed) return new PairMatrix(metric, first.Id, second.Id, matrix, pair.BestScore, pair.Best);
        matrix = Enumerable.Range(0, pair.SecondLayers).Select(j => Enumerable.Range(0, pair.FirstLayers).Select(i => matrix[i][j]).ToArray()).ToArray();
        return new PairMatrix(metric, first.Id, second.Id, matrix, pair.BestScore, pair.TransposedBest ?? (pair.Best is { } b ? [b[1], b[0]] : null));
    }

    public Task<AggregatorCounters> GetCountersAsync() => Task.FromResult(new AggregatorCounters(
        state.State.Tiles.Count, state.State.PairsScored, state.State.LayerPairsScored, state.State.SketchesBuilt));

    public async Task JobEndedAsync(JobOutcome outcome)
    {
        if (!_running.Remove(outcome.JobId, out var run)) return; // already put back (its silo was thought gone): the later run reports
        var job = run.Job;
        if (outcome.Outage is { } outage)
        {
            logger.LogWarning("job {Job} waits for the store: {Outage}", job.Request.Id, outage);
            _outage = outage;
            _pending.AddFirst(job);
        }
        else if (outcome.Lost is { } blob)
        {
            logger.LogWarning("job {Job} waits for its features: {Reason}", job.Request.Id, outcome.Error);
            _lost[job.Request.Id] = (job, blob);
        }
        else if (outcome.Error is { } error)
        {
            if (!outcome.Refused && ++job.Attempt < Attempts)
            {
                logger.LogInformation("job {Job} on {Silo} will be tried again: {Error}", job.Request.Id, outcome.Silo, error);
                _pending.AddLast(job);
            }
            else Fail(job, job.Pairs, error);
        }
        else if (job.IsTile && outcome.Tile is null)
        {
            // Every metric of the tile was refused for these models.
            foreach (var (metric, refusal) in outcome.MetricErrors ?? new Dictionary<string, string>())
                Fail(job, job.Pairs.Where(p => p.Metric == metric).ToList(), refusal);
        }
        else if (job.IsTile)
        {
            await Record(job, outcome);
        }
        else
        {
            _sketched[job.Models[0]] = _sketched.TryGetValue(job.Models[0], out var known) ? known.Union(job.Sketch) : job.Sketch;
            if (outcome.SketchPiecesBuilt > 0)
            {
                state.State.SketchesBuilt++;
                _changes++;
                await TrySave();
            }
        }
        await Dispatch();
        Tell();
    }

    /// <summary>A scored tile into the index and the state (one write); pairs of metrics the models refused fail.</summary>
    private async Task Record(Job job, JobOutcome outcome)
    {
        var index = await Index();
        var tile = outcome.Tile!;
        List<PairSummary> pairs;
        try
        {
            pairs = TileResults.DecodeSummary(await store.GetAsync(tile.Summary));
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            _outage = outage.Message;
            _unrecorded.Add((job, outcome)); // recorded once the store answers again
            return;
        }
        state.State.Tiles.Add(tile);
        int t = state.State.Tiles.Count - 1;
        foreach (var pair in pairs)
        {
            var key = new PairKey(pair.MetricKey, pair.First, pair.Second);
            index[key] = (pair, t);
            Arrived(key);
        }
        state.State.PairsScored += tile.Pairs;
        state.State.LayerPairsScored += tile.LayerPairs;
        foreach (var key in job.Pairs) _covered.Remove(key);
        if (outcome.MetricErrors is { } errors)
            foreach (var (metric, error) in errors) Fail(job, job.Pairs.Where(p => p.Metric == metric).ToList(), error);
        foreach (var work in _work.Values) if (work.Tiles.Contains(job.Request.Id)) work.Done.Add(job.Request.Id);
        PrhTelemetry.QueuedTiles.Add(-1);
        _changes++;
        await TrySave();
    }

    /// <summary>A pair is scored: the works waiting for it (or, for a symmetric metric, for its other order) have it.</summary>
    private void Arrived(PairKey key)
    {
        var reversed = key with { First = key.Second, Second = key.First };
        bool symmetric = _metrics.TryGetValue(key.Metric, out var need) && need.Symmetric;
        foreach (var work in _work.Values)
            if (work.Waiting.Remove(key, out long layerPairs) || symmetric && work.Waiting.Remove(reversed, out layerPairs))
            {
                work.LayerPairsDone += layerPairs;
            }
    }

    private void Fail(Job job, IReadOnlyList<PairKey> pairs, string error)
    {
        logger.LogWarning("job {Job} failed: {Error}", job.Request.Id, error);
        foreach (var key in pairs)
        {
            _failures[key] = error;
            _covered.Remove(key);
            foreach (var work in _work.Values)
                if (work.Failure is null && work.Waiting.ContainsKey(key))
                {
                    string Id(string sha) => work.Models.First(m => m.Features.Blob.Sha256 == sha).Id;
                    work.Failure = $"{key.Metric} of {Id(key.First)} x {Id(key.Second)}: {error}";
                }
        }
        if (!job.IsTile)
        {
            // Tiles waiting for this sketch cannot run: their pairs fail with it.
            foreach (var tile in _pending.Where(j => j.IsTile && j.Models.Contains(job.Models[0])).ToList())
            {
                _pending.Remove(tile);
                Fail(tile, tile.Pairs, error);
            }
        }
        foreach (var work in _work.Values) if (work.Tiles.Contains(job.Request.Id)) work.Done.Add(job.Request.Id);
    }

    /// <summary>Tops up each live silo's jobs: sketches first; a tile once its models' sketches are stored, sharing a block with the silo's last if one does.</summary>
    private async Task Dispatch()
    {
        if (Outstanding) StartTimer();
        if (_outage is not null) return;
        var silos = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToParsableString()).ToList();
        // Every silo gets a first job before any gets a second.
        for (int slot = 1; slot <= JobsPerSilo; slot++)
            foreach (string silo in silos)
            {
                if (_running.Values.Count(r => r.Silo == silo) >= slot) continue;
                var job = Next(silo);
                if (job is null) return;
                _pending.Remove(job);
                _running[job.Request.Id] = (job, silo);
                if (job.Request.Tile is { } tile) _lastBlock[silo] = BlockKey(tile.Firsts);
                try
                {
                    await GrainFactory.GetGrain<ITileWorkerGrain>(silo).StartAsync(job.Request);
                }
                catch (Exception e)
                {
                    logger.LogInformation(e, "job {Job} could not be given to {Silo}; it waits for another", job.Request.Id, silo);
                    _running.Remove(job.Request.Id);
                    _pending.AddFirst(job);
                }
            }
    }

    private Job? Next(string silo)
    {
        var sketch = _pending.FirstOrDefault(j => !j.IsTile);
        if (sketch is not null) return sketch;
        var ready = _pending.Where(j => j.Models.All(m => _sketched.TryGetValue(m, out var known) && Covers(known, j.Sketch))).ToList();
        if (ready.Count == 0) return null;
        string? last = _lastBlock.GetValueOrDefault(silo);
        return ready.FirstOrDefault(j => last is not null && (BlockKey(j.Request.Tile!.Firsts) == last || BlockKey(j.Request.Tile!.Seconds) == last)) ?? ready[0];
    }

    private bool Outstanding => _pending.Count > 0 || _running.Count > 0 || _lost.Count > 0 || _unrecorded.Count > 0 || _outage is not null || _saved < _changes;

    private void StartTimer() => _timer ??= this.RegisterGrainTimer(OnTick, new GrainTimerCreationOptions(Tick, Tick) { KeepAlive = true });

    /// <summary>While work is outstanding: the store probed while out, unsaved records written, jobs of departed silos put back, dispatch.</summary>
    private async Task OnTick(CancellationToken cancellation)
    {
        if (_outage is not null && await store.ProbeAsync(ProbeTimeout) is null)
        {
            logger.LogInformation("aggregator {Dataset}: the store is back", this.GetPrimaryKeyString());
            _outage = null;
        }
        if (_outage is null)
            foreach (var (job, outcome) in _unrecorded.ToList())
            {
                _unrecorded.Remove((job, outcome));
                await Record(job, outcome);
            }
        if (_saved < _changes) await TrySave();
        var live = membership.CurrentSnapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress.ToParsableString()).ToHashSet();
        foreach (var (id, (job, silo)) in _running.ToList())
        {
            if (live.Contains(silo)) continue;
            logger.LogInformation("job {Job}: silo {Silo} left the cluster; the job waits for another", id, silo);
            _running.Remove(id);
            _pending.AddFirst(job);
        }
        await Dispatch();
        Tell();
        if (!Outstanding)
        {
            _timer?.Dispose();
            _timer = null;
        }
    }

    /// <summary>Writes the state if it holds records not yet stored; an outage is noted and tried again by the timer.</summary>
    private async Task TrySave()
    {
        long changes = _changes;
        try
        {
            await state.WriteStateAsync();
            _saved = changes;
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            _outage = outage.Message;
            StartTimer();
        }
    }

    /// <summary>The scored pairs, from every recorded tile's summary (read once per activation; a tile whose summary is lost is forgotten and scored again).</summary>
    private async Task<Dictionary<PairKey, (PairSummary Pair, int Tile)>> Index()
    {
        if (_index is not null) return _index;
        var index = new Dictionary<PairKey, (PairSummary, int)>();
        var kept = new List<TileRecord>();
        foreach (var tile in state.State.Tiles)
        {
            try
            {
                var pairs = TileResults.DecodeSummary(await store.GetAsync(tile.Summary));
                foreach (var pair in pairs) index[new PairKey(pair.MetricKey, pair.First, pair.Second)] = (pair, kept.Count);
                kept.Add(tile);
            }
            catch (Exception e) when (SiloFailures.Find<LostBlobException>(e) is not null || e is InvalidDataException)
            {
                logger.LogWarning("aggregator {Dataset}: tile {Tile}'s summary is unusable ({Reason}); its pairs will be scored again", this.GetPrimaryKeyString(),
                    tile.Id, e.Message);
            }
        }
        if (kept.Count != state.State.Tiles.Count)
        {
            state.State.Tiles = kept;
            _changes++;
        }
        return _index = index;
    }

    /// <summary>
    /// Indices of the models all of whose pairs among themselves are scored for every metric, found
    /// greedily in the models' order: the part of a matrix that adding models leaves as it was.
    /// </summary>
    private static List<int> Scored(Dictionary<PairKey, (PairSummary Pair, int Tile)> index, IReadOnlyList<Need> needs, IReadOnlyList<ImportedModel> models)
    {
        var kept = new List<int>();
        for (int x = 0; x < models.Count; x++)
        {
            bool Has(Need need, int first, int second) =>
                Scored(index, new PairKey(need.Key, models[first].Features.Blob.Sha256, models[second].Features.Blob.Sha256), need) is not null;
            // compute_alignment needs (later model, earlier model), and for cycle_knn both orders.
            if (needs.All(n => Has(n, x, x) && kept.All(o => Has(n, x, o) && (n.Mirrored || Has(n, o, x))))) kept.Add(x);
        }
        return kept;
    }

    /// <summary>A pair's best score and layer pair, from its own record or, for a symmetric metric, from the reversed pair's transposed.</summary>
    private static (double Score, int[]? Best)? Scored(Dictionary<PairKey, (PairSummary Pair, int Tile)> index, PairKey key, Need need)
    {
        if (index.TryGetValue(key, out var entry)) return (entry.Pair.BestScore, entry.Pair.Best);
        if (need.Symmetric && index.TryGetValue(key with { First = key.Second, Second = key.First }, out var reversed))
            return (reversed.Pair.BestScore, reversed.Pair.TransposedBest);
        return null;
    }

    /// <summary>The pairs (key, first index, second index) compute_alignment(models, models) needs: (models[j], models[i]).</summary>
    private static IEnumerable<(PairKey Key, int First, int Second)> Needed(Need need, IReadOnlyList<ImportedModel> models)
    {
        bool mirror = need.Mirrored;
        for (int i = 0; i < models.Count; i++)
            for (int j = mirror ? i : 0; j < models.Count; j++)
                yield return (new PairKey(need.Key, models[j].Features.Blob.Sha256, models[i].Features.Blob.Sha256), j, i);
    }

    private static bool Covers(SketchRequest have, SketchRequest want) => have.NeighbourColumns >= want.NeighbourColumns
        && want.Kernels.All(have.Kernels.Contains) && want.SvccaDimensions.All(have.SvccaDimensions.Contains);

    private static bool IsEmpty(SketchRequest r) => r.NeighbourColumns == 0 && r.Kernels.Count == 0 && r.SvccaDimensions.Count == 0;

    private static string Describe(SketchRequest r) => $"{r.NeighbourColumns}|{string.Join(",", r.Kernels)}|{string.Join(",", r.SvccaDimensions)}";

    private static string BlockKey(IReadOnlyList<StoredFeatures> models) => string.Join(",", models.Select(m => m.Blob.Sha256));

    private static string JobId(string kind, IEnumerable<string> parts) =>
        $"{kind}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))))[..24]}";
}
