using Microsoft.Extensions.Logging;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>Stored state of an aggregator: every scored ordered pair, by the content of its two models.</summary>
[GenerateSerializer, Alias("prh.AggregatorState")]
public sealed class AggregatorState
{
    [Id(0)] public MetricConfig? Metric { get; set; }
    [Id(1)] public Dictionary<string, PairScore> Pairs { get; set; } = [];
    [Id(2)] public long LayerPairsScored { get; set; }
}

/// <summary>
/// Owns one (dataset, metric) all-pairs matrix. Entry [i][j] of compute_alignment(models, models) is
/// compute_score(prep(model j), prep(model i)); only i &lt;= j is computed (mirrored, indices reversed)
/// except for cycle_knn. Each needed ordered pair is keyed by the two feature blobs' hashes and scored
/// once, on a worker on any silo, in the grain's background; callers poll GetProgress. A pair that
/// meets an unavailable store is left unscored (the next Ensure schedules it again) and reported as an
/// outage; one whose features were lost waits until the sweep has recomputed them; one whose silo
/// fails is tried again for two minutes. Only a refusal of the input is a failure.
/// </summary>
public sealed class AggregatorGrain(
    [PersistentState("aggregator", "prh")] IPersistentState<AggregatorState> state,
    ILogger<AggregatorGrain> logger) : Grain, IAggregatorGrain
{
    private const int MaxConcurrentPairs = 4;
    private const int WorkerCount = 64;
    private const int WorkerAttempts = 3;
    private readonly Dictionary<string, Task> _inFlight = [];
    private readonly Dictionary<string, string> _failures = [];
    private readonly Dictionary<string, BlobRef> _lost = [];
    private readonly Dictionary<string, DateTime> _transient = []; // when a pair's silo failures began
    private static readonly TimeSpan TransientBudget = TimeSpan.FromMinutes(2);
    private string? _outage;
    private long _changes, _saved; // state changes made, and how many of them are stored
    private readonly SemaphoreSlim _slots = new(MaxConcurrentPairs);
    private readonly SemaphoreSlim _writes = new(1);

    public Task Ensure(MetricConfig metric, IReadOnlyList<ModelEntry> models, bool retryFailed)
    {
        if (state.State.Metric is { } known && known != metric)
            throw new ArgumentException($"aggregator {this.GetPrimaryKeyString()} scores {known.Key}, not {metric.Key}");
        state.State.Metric = metric;
        foreach (var (key, first, second) in Needed(metric, models))
        {
            if (state.State.Pairs.ContainsKey(key) || _inFlight.ContainsKey(key) || _lost.ContainsKey(key)) continue;
            if (!retryFailed && _failures.ContainsKey(key)) continue;
            _failures.Remove(key);
            PrhTelemetry.QueuedPairs.Add(1);
            _inFlight[key] = ScorePair(metric, key, first, second);
        }
        return Task.CompletedTask;
    }

    public async Task<AggregatorProgress> GetProgress(IReadOnlyList<ModelEntry> models)
    {
        var metric = state.State.Metric ?? throw new InvalidOperationException("nothing was scheduled on this aggregator");
        if (_saved < _changes) await Save(); // scores kept while the store was out: complete only once stored
        bool complete = _saved == _changes;
        var lost = new HashSet<BlobRef>();
        foreach (var (key, first, second) in Needed(metric, models))
        {
            if (_failures.TryGetValue(key, out string? error))
                throw new InvalidOperationException($"{metric.Key} of {first.Id} x {second.Id}: {error}");
            if (_lost.TryGetValue(key, out var blob)) lost.Add(blob);
            if (!state.State.Pairs.ContainsKey(key)) complete = false;
        }
        return new AggregatorProgress(complete, _outage, lost.ToList());
    }

    public Task Recovered(IReadOnlyList<BlobRef> features)
    {
        foreach (var (key, blob) in _lost.ToList())
            if (features.Contains(blob)) _lost.Remove(key);
        return Task.CompletedTask;
    }

    public Task<MetricMatrix> GetMatrix(IReadOnlyList<ModelEntry> models)
    {
        var metric = state.State.Metric ?? throw new InvalidOperationException("nothing was scheduled on this aggregator");
        int m = models.Count;
        bool mirror = metric.Name != "cycle_knn";
        var scores = new double[m][];
        var indices = new int[]?[m][];
        for (int i = 0; i < m; i++) { scores[i] = new double[m]; indices[i] = new int[]?[m]; }
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                // [i][j] is compute_score(prep(models[j]), prep(models[i])); a mirrored entry is [j][i] reversed.
                bool mirrored = mirror && i > j;
                var (first, second) = mirrored ? (models[i], models[j]) : (models[j], models[i]);
                var pair = state.State.Pairs.TryGetValue(Key(first.Features, second.Features), out var p)
                    ? p : throw new InvalidOperationException($"{metric.Key}: pair {first.Id} x {second.Id} is not scored yet");
                scores[i][j] = pair.BestScore;
                indices[i][j] = mirrored && pair.BestIndices is { } bi ? [bi[1], bi[0]] : pair.BestIndices;
            }
        return Task.FromResult(new MetricMatrix(metric, models.Select(x => x.Id).ToList(), scores, indices));
    }

    public Task<long> GetLayerPairsScored() => Task.FromResult(state.State.LayerPairsScored);

    /// <summary>Writes the state if it holds scores not yet stored; an outage is noted and thrown to the caller.</summary>
    private async Task Save()
    {
        await _writes.WaitAsync();
        try
        {
            long changes = _changes; // the write below stores at least these
            if (_saved >= changes) return;
            await state.WriteStateAsync();
            _saved = changes;
            _outage = null;
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            _outage = outage.Message;
            throw;
        }
        finally
        {
            _writes.Release();
        }
    }

    /// <summary>The ordered pairs (first argument, second argument) compute_alignment(models, models) needs.</summary>
    private static IEnumerable<(string Key, ModelEntry First, ModelEntry Second)> Needed(MetricConfig metric, IReadOnlyList<ModelEntry> models)
    {
        bool mirror = metric.Name != "cycle_knn";
        for (int i = 0; i < models.Count; i++)
            for (int j = mirror ? i : 0; j < models.Count; j++)
                yield return (Key(models[j].Features, models[i].Features), models[j], models[i]);
    }

    private static string Key(FeatureInfo first, FeatureInfo second) => $"{first.Blob.Sha256}|{second.Blob.Sha256}";

    /// <summary>
    /// One worker per pair key (of a fixed set), placed at random, so pairs spread over the silos. A
    /// failure of the silo under it is retried (the worker re-activates elsewhere); a refusal of the
    /// input (ArgumentException and its kin) is not.
    /// </summary>
    private async Task<PairScore> ScoreOnWorker(MetricConfig metric, string key, ModelEntry first, ModelEntry second)
    {
        var worker = GrainFactory.GetGrain<IScoringWorkerGrain>((long)(uint)StringComparer.Ordinal.GetHashCode(key) % WorkerCount);
        return await SiloFailures.Retry(() => worker.Score(metric, first.Features, second.Features), WorkerAttempts,
            onRetry: (e, attempt) => logger.LogInformation(e, "{Metric} of {First} x {Second}: attempt {Attempt} failed; retrying", metric.Key, first.Id, second.Id, attempt));
    }

    private async Task ScorePair(MetricConfig metric, string key, ModelEntry first, ModelEntry second)
    {
        await _slots.WaitAsync();
        try
        {
            var score = await ScoreOnWorker(metric, key, first, second);
            state.State.Pairs[key] = score;
            state.State.LayerPairsScored += score.LayerPairs;
            _changes++;
            _transient.Remove(key);
            await Save();
        }
        catch (Exception e) when (SiloFailures.Find<LostBlobException>(e) is { } lost)
        {
            logger.LogWarning("{Metric} of {First} x {Second} waits for its features: {Reason}", metric.Key, first.Id, second.Id, lost.Message);
            _lost[key] = lost.Blob;
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            // Not a failure: left unscored (or scored and unsaved), it is taken up again when the store is back.
            logger.LogWarning("{Metric} of {First} x {Second} waits for the store: {Reason}", metric.Key, first.Id, second.Id, outage.Message);
            _outage = outage.Message;
        }
        catch (Exception e) when (!SiloFailures.IsRefusal(e) && DateTime.UtcNow - _transient.GetValueOrDefault(key, DateTime.UtcNow) < TransientBudget)
        {
            // A silo failing under the worker: left unscored, so the next Ensure schedules it again, for
            // as long as the cluster may take to declare the silo dead.
            logger.LogInformation("{Metric} of {First} x {Second} will be tried again: {Reason}", metric.Key, first.Id, second.Id, e.Message);
            _transient.TryAdd(key, DateTime.UtcNow);
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "{Metric} of {First} x {Second} failed", metric.Key, first.Id, second.Id);
            _failures[key] = e.Message;
        }
        finally
        {
            _slots.Release();
            _inFlight.Remove(key);
            PrhTelemetry.QueuedPairs.Add(-1);
        }
    }
}
