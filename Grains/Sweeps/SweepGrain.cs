using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;
using Prh.Contracts;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Sweeps;

[GenerateSerializer, Alias("prh.SweepState")]
public sealed class SweepState
{
    [Id(0)] public SweepDefinition? Definition { get; set; }
    [Id(1)] public SweepPhase Phase { get; set; }
    [Id(2)] public Dictionary<string, StoredFeatures> Imported { get; set; } = [];
    [Id(3)] public int MetricsDone { get; set; }
    /// <summary>Why the sweep failed, once it has.</summary>
    [Id(4)] public string? Failure { get; set; }

    /// <summary>The models left out, by id, and why.</summary>
    [Id(5)] public Dictionary<string, string> Failed { get; set; } = [];
    [Id(6)] public string? TraceId { get; set; }
    [Id(7)] public List<Recovery> Recoveries { get; set; } = [];

    /// <summary>The scoring's progress when the sweep last stored its state (its end, for a finished sweep).</summary>
    [Id(8)] public ScoringProgress? Scoring { get; set; }

    /// <summary>Layer pairs the dataset's aggregator had scored, for any sweep, when this one last stored its state.</summary>
    [Id(9)] public long LayerPairsScored { get; set; }

    /// <summary>The definition's calibration as the aggregator takes it: recorded permutations stored, checked against N.</summary>
    [Id(10)] public CalibrationSettings? Calibration { get; set; }
}

/// <summary>
/// Orchestrates one sweep in its background: import every model (a feature file, or ONNX extraction
/// over the dataset's shards; N checked against the dataset), then have the dataset's aggregator score
/// every metric's missing pairs, in tiles, following its progress until done. A model that fails is
/// reported and left out; the others go on. Its state is durable, so a sweep interrupted by a restart
/// resumes when the grain next activates. Nobody has to watch: while the sweep runs, a keep-alive
/// timer keeps the grain from being collected, and a reminder (kept until the sweep ends) activates it
/// again after its silo is lost. Every step is repeated while a silo fails under it (for two minutes)
/// and, without limit, while the store is unavailable (the status says the sweep is paused); features
/// found lost in the store are imported again from their source. Reentrant so that status calls are
/// answered while it works.
/// </summary>
[Reentrant]
public sealed class SweepGrain(
    [PersistentState("sweep", "prh")] IPersistentState<SweepState> state,
    IBlobStore store,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain, IRemindable
{
    private const string ResumeReminder = "prh.sweep.resume";
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>How long the sweep waits to be told of its scoring before it asks the aggregator.</summary>
    private static readonly TimeSpan SilenceLimit = TimeSpan.FromSeconds(10);
    private const int ImportsAtOnce = 4;
    private static readonly TimeSpan SiloFailureBudget = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private Task? _running;
    private IGrainTimer? _keepAlive;
    private SweepPause? _paused;
    private AggregatorProgress? _progress;
    private string? _work;
    private TaskCompletionSource _told = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SortedDictionary<string, ModelExtraction> _extraction = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Phase is SweepPhase.Importing or SweepPhase.Scoring) Begin(Run());
        return Task.CompletedTask;
    }

    /// <summary>Activated by the reminder after its silo was lost: OnActivateAsync has resumed the run.</summary>
    public Task ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    /// <summary>Runs <paramref name="run"/> with the grain kept alive until it ends.</summary>
    private void Begin(Task run)
    {
        _running = run;
        _keepAlive ??= this.RegisterGrainTimer(_ =>
        {
            if (_running is { IsCompleted: true })
            {
                _keepAlive?.Dispose();
                _keepAlive = null;
            }
            return Task.CompletedTask;
        }, new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)) { KeepAlive = true });
    }

    public Task<SweepStatus> SubmitAsync(SweepDefinition definition)
    {
        SweepValidation.Check(definition);
        bool finishing = state.State.Phase is SweepPhase.Completed or SweepPhase.Failed; // a finished run may still be storing its end
        if (_running is { IsCompleted: false } && !finishing)
        {
            if (state.State.Definition == definition) return GetStatusAsync(); // the same sweep submitted again joins the running one
            throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' is still running; submit again when it has finished");
        }
        // Claimed before the first await: a second submission arriving meanwhile sees it running.
        state.State.Phase = SweepPhase.Importing;
        Begin(Start(definition, _running));
        return GetStatusAsync();
    }

    private async Task Start(SweepDefinition definition, Task? previous)
    {
        if (previous is not null) await previous;
        state.State.Definition = definition;
        state.State.Phase = SweepPhase.Importing;
        state.State.MetricsDone = 0;
        state.State.Failure = null;
        state.State.Failed = [];
        state.State.Imported = [];
        state.State.Recoveries = [];
        state.State.Calibration = null;
        state.State.TraceId = Activity.Current?.TraceId.ToHexString(); // the submitter's trace: the whole sweep is one trace
        _progress = null;
        state.State.Scoring = null;
        await Save();
        await Call(() => this.RegisterOrUpdateReminder(ResumeReminder, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)));
        await Run();
    }

    /// <summary>What this grain knows, asking no one: the scoring's progress is what the aggregator last told.</summary>
    public Task<SweepStatus> GetStatusAsync()
    {
        var definition = state.State.Definition;
        return Task.FromResult(new SweepStatus(this.GetPrimaryKeyString(), state.State.Phase,
            state.State.Imported.Count, definition?.Models.Count ?? 0,
            state.State.MetricsDone, definition?.Metrics.Count ?? 0, _progress?.LayerPairsScored ?? state.State.LayerPairsScored,
            Failures(definition), _extraction.Values.ToList(), state.State.TraceId, _paused, state.State.Recoveries.ToList(),
            _progress is { } live ? ToScoring(live) : state.State.Scoring ?? ToScoring(null), state.State.Failure));
    }

    /// <summary>The models left out, in the definition's order.</summary>
    private List<ModelError> Failures(SweepDefinition? definition) =>
        (definition?.Models ?? []).Where(m => state.State.Failed.ContainsKey(m.Id)).Select(m => new ModelError(m.Id, state.State.Failed[m.Id])).ToList();

    private static ScoringProgress ToScoring(AggregatorProgress? p) =>
        new(p?.TilesDone ?? 0, p?.TileCount ?? 0, p?.LayerPairsDone ?? 0, p?.LayerPairCount ?? 0, p?.SketchesDone ?? 0, p?.SketchCount ?? 0);

    public async Task<IReadOnlyList<MetricMatrix>> GetResultsAsync()
    {
        var definition = state.State.Definition ?? throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' was never submitted");
        if (state.State.Phase != SweepPhase.Completed)
            throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' is {state.State.Phase.ToString().ToLowerInvariant()}"
                + (state.State.Failure is { } failure ? $": {failure}" : ""));
        var models = Entries(definition);
        var results = new List<MetricMatrix>();
        foreach (var metric in definition.Metrics)
            results.Add(await Aggregator(definition).GetMatrixAsync(metric, models, state.State.Calibration));
        return results;
    }

    public async Task<PairMatrix> GetPairAsync(string metric, string first, string second)
    {
        var definition = state.State.Definition ?? throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' was never submitted");
        if (state.State.Phase != SweepPhase.Completed)
            throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' is {state.State.Phase.ToString().ToLowerInvariant()}");
        var config = definition.Metrics.FirstOrDefault(m => m.Key == metric) ?? definition.Metrics.FirstOrDefault(m => m.Name == metric)
            ?? throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' has no metric '{metric}'; it has {string.Join(", ", definition.Metrics.Select(m => m.Key))}");
        var models = Entries(definition);
        ImportedModel Model(string id) => models.FirstOrDefault(m => m.Id == id)
            ?? throw new RefusalException($"sweep '{this.GetPrimaryKeyString()}' has no scored model '{id}'; it has {string.Join(", ", models.Select(m => m.Id))}");
        return await Aggregator(definition).GetPairAsync(config, Model(first), Model(second));
    }

    private async Task Run()
    {
        var definition = state.State.Definition!;
        try
        {
            if (state.State.Phase == SweepPhase.Importing)
            {
                using var importing = PrhTelemetry.Source.StartActivity("prh.sweep.import");
                importing?.SetTag("prh.sweep", this.GetPrimaryKeyString());
                importing?.SetTag("prh.models", definition.Models.Count);
                // A few models at once (each import reads, checks and hashes a file; an extraction fans out over shards).
                // The first model imported sets the dataset's N and sample ids, so models go one at a time until one is
                // imported: the definition's order decides which, not a race.
                var waiting = definition.Models.Where(m => !state.State.Imported.ContainsKey(m.Id) && !state.State.Failed.ContainsKey(m.Id)).ToList();
                int alone = 0;
                while (alone < waiting.Count && state.State.Imported.Count == 0) await ImportWave(definition, [waiting[alone++]], importing);
                foreach (var wave in waiting.Skip(alone).Chunk(ImportsAtOnce)) await ImportWave(definition, wave, importing);
                if (state.State.Imported.Count == 0) throw new RefusalException("no model could be imported");
                state.State.Phase = SweepPhase.Scoring;
                await Save();
            }
            using (var scoring = PrhTelemetry.Source.StartActivity("prh.sweep.score"))
            {
                scoring?.SetTag("prh.sweep", this.GetPrimaryKeyString());
                scoring?.SetTag("prh.metrics", string.Join(",", definition.Metrics.Select(m => m.Key)));
                await Score(definition);
            }
            state.State.MetricsDone = definition.Metrics.Count;
            state.State.Scoring = ToScoring(_progress);
            state.State.LayerPairsScored = _progress?.LayerPairsScored ?? state.State.LayerPairsScored;
            state.State.Phase = SweepPhase.Completed;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "sweep {Sweep} failed", this.GetPrimaryKeyString());
            state.State.Phase = SweepPhase.Failed;
            state.State.Failure = e.Message;
        }
        await Save();
        await Call(async () => { if (await this.GetReminder(ResumeReminder) is { } reminder) await this.UnregisterReminder(reminder); });
    }

    /// <summary>
    /// Has the dataset's aggregator score every metric's pairs, following what it tells of its progress.
    /// Told nothing for a while (the aggregator's silo went away, and with it the record that this sweep
    /// follows), the sweep asks, which plans the lost work again. Features reported lost are imported again
    /// from their source; a failed pair fails the sweep.
    /// </summary>
    private async Task Score(SweepDefinition definition)
    {
        var aggregator = Aggregator(definition);
        var models = Entries(definition);
        string id = this.GetPrimaryKeyString();
        var calibration = state.State.Calibration = await StoredCalibration(definition.Calibration, models[0].Features.SampleCount);
        await Save();
        _work = AggregatorProgress.WorkOf(definition.Metrics, models, calibration);
        // What an earlier run of this grain was told (a late report on its work may have come in before _work changed) is not this work's.
        _progress = null;
        _told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Once per sweep: a pair that failed for an earlier sweep gets another try.
        await Call(() => aggregator.EnsureAsync(definition.Metrics, models, calibration, retryFailed: true, follower: id));
        var recovering = new HashSet<BlobRef>();
        while (true)
        {
            var told = _told.Task;
            if (await Task.WhenAny(told, Task.Delay(SilenceLimit)) != told || _progress is null)
                _progress = await Call(() => aggregator.GetProgressAsync(definition.Metrics, models, calibration, follower: id));
            _told = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var progress = _progress;
            if (progress.Failure is { } failure) throw new RefusalException(failure);
            if (progress.Complete) return;
            Pause(progress.Outage);
            var lost = progress.Lost.Where(recovering.Add).ToList();
            if (lost.Count > 0)
            {
                await Recover(definition, lost);
                await Call(() => aggregator.RecoveredAsync(lost));
            }
            recovering.IntersectWith(progress.Lost);
        }
    }

    /// <summary>
    /// The calibration the aggregator takes: recorded permutations read (a file, or a stored blob), checked to be
    /// permutations of the dataset's N with at least K rows (refused naming the file and the field), and stored,
    /// content-named, so that every silo's tiles read the same ones; seeded permutations as they are.
    /// </summary>
    private async Task<CalibrationSettings?> StoredCalibration(CalibrationSettings? calibration, int sampleCount)
    {
        if (calibration?.PermutationsFile is not { } file) return calibration;
        bool stored = BlobRef.TryParseUri(file, out var blob);
        byte[] bytes;
        try
        {
            bytes = stored ? await Call(() => store.GetAsync(blob)) : await File.ReadAllBytesAsync(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RefusalException($"calibration.permutations {file}: {e.Message}");
        }
        Refusals.Engine(() => calibration.Draw(sampleCount, "calibration.permutations", file, bytes));
        if (!stored) blob = await Call(() => store.PutAsync(bytes));
        return calibration with { PermutationsFile = blob.ToUri() };
    }

    public Task ProgressedAsync(AggregatorProgress progress)
    {
        if (progress.Work != _work) return Task.CompletedTask; // a report on an earlier run's work
        _progress = progress;
        _told.TrySetResult();
        return Task.CompletedTask;
    }

    /// <summary>Imports again, from their sources, the models whose stored features were lost; their content (and so their pairs' keys) comes back the same.</summary>
    private async Task Recover(SweepDefinition definition, IReadOnlyList<BlobRef> lost)
    {
        foreach (var model in definition.Models)
        {
            if (!state.State.Imported.TryGetValue(model.Id, out var info) || !lost.Contains(info.Blob)) continue;
            string source = model.Features ?? model.Onnx!.Path;
            logger.LogWarning("sweep {Sweep}: stored features of model {Model} ({Blob}) were lost; importing them again from {Source}", this.GetPrimaryKeyString(),
                model.Id, info.Blob, source);
            var again = await Import(model, definition);
            if (again.Blob != info.Blob)
                throw new RefusalException($"model '{model.Id}': its source {source} no longer gives the features this sweep imported ({info.Blob}, now {again.Blob})");
            state.State.Recoveries.Add(new Recovery(model.Id, info.Blob, source));
            await Save();
        }
    }

    /// <summary>Imports the models of <paramref name="wave"/> at once and records each one's features or error.</summary>
    private async Task ImportWave(SweepDefinition definition, IReadOnlyList<ModelDefinition> wave, System.Diagnostics.Activity? importing)
    {
        var imported = await Task.WhenAll(wave.Select(async model =>
        {
            try
            {
                return (model, Features: await Import(model, definition), Error: (string?)null);
            }
            catch (Exception e)
            {
                importing.Fail(e);
                return (model, Features: (StoredFeatures?)null, Error: e.Message);
            }
        }));
        foreach (var (model, features, error) in imported)
        {
            if (features is not null) state.State.Imported[model.Id] = features;
            else state.State.Failed[model.Id] = error!;
        }
        await Save();
    }

    private async Task<StoredFeatures> Import(ModelDefinition model, SweepDefinition definition)
    {
        var grain = GrainFactory.GetGrain<IModelGrain>($"{definition.Dataset}/{model.Id}");
        var info = model.Onnx is { } onnx ? await Extract(grain, model.Id, onnx, definition) : await Call(() => grain.ImportAsync(model.Features!));
        var dataset = GrainFactory.GetGrain<IDatasetGrain>(definition.Dataset);
        await Call(() => dataset.RegisterAsync(model.Id, info.SampleCount));
        if (model.Samples is { } samples) await Call(() => dataset.CheckSamplesAsync($"model '{model.Id}'", samples));
        return info;
    }

    /// <summary>Starts the model's extraction and polls it, keeping a line of progress for the status.</summary>
    private async Task<StoredFeatures> Extract(IModelGrain grain, string id, OnnxSource onnx, SweepDefinition definition)
    {
        var inputs = definition.Data ?? new DatasetSource(null);
        string ticket = await Call(() => grain.StartExtractionAsync(onnx, inputs, definition.ShardSize));
        while (true)
        {
            var progress = await Call(() => grain.GetExtractionAsync(ticket));
            // A model grain re-activated elsewhere (its silo went away) has no extraction, and one that met
            // the store out has stopped: start it again; the shards already stored are found, not extracted again.
            if (progress is null || progress.Outage is not null)
            {
                if (progress?.Outage is { } outage) await WaitForStore(outage);
                await Call(() => grain.StartExtractionAsync(onnx, inputs, definition.ShardSize));
                continue;
            }
            _extraction[id] = new ModelExtraction(id, progress.ShardsDone, progress.ShardCount, progress.Sites);
            if (progress.Error is { } error) throw new RefusalException(error);
            if (progress.Features is { } features) return features;
            await Task.Delay(PollInterval);
        }
    }

    private Task Save() => Call(() => state.WriteStateAsync());

    /// <summary>
    /// One step of the sweep: repeated while the silo under it fails (until the budget is spent) and while
    /// the store is unavailable (for as long as it is, the sweep paused); a refusal or a lost blob goes to the caller.
    /// </summary>
    private Task<T> Call<T>(Func<Task<T>> step) => SiloFailures.Retry(step, budget: SiloFailureBudget, waitOut: WaitOutStore);

    private Task Call(Func<Task> step) => SiloFailures.Retry(step, budget: SiloFailureBudget, waitOut: WaitOutStore);

    /// <summary>When the store is what failed (it says so, or does not answer a probe), waits until it is back.</summary>
    private async Task<bool> WaitOutStore(Exception e)
    {
        if ((SiloFailures.Find<StoreUnavailableException>(e)?.Message ?? await StoreDown()) is not { } outage) return false;
        await WaitForStore(outage);
        return true;
    }

    /// <summary>Why the store does not answer now, or null when it does.</summary>
    private async Task<string?> StoreDown() =>
        await store.ProbeAsync(ProbeTimeout) is { } reason ? $"the store {store.Description} is unavailable: {reason}" : null;

    /// <summary>Pauses the sweep (the status says why) until the store answers again.</summary>
    private async Task WaitForStore(string outage)
    {
        Pause(outage);
        logger.LogWarning("sweep {Sweep} paused: {Outage}", this.GetPrimaryKeyString(), outage);
        var delay = TimeSpan.FromSeconds(1);
        while (await StoreDown() is { } still)
        {
            Pause(still);
            await Task.Delay(delay);
            delay = TimeSpan.FromSeconds(Math.Min(5, delay.TotalSeconds * 2));
        }
        logger.LogInformation("sweep {Sweep}: the store is back; going on", this.GetPrimaryKeyString());
        Pause(null);
    }

    /// <summary>Notes why the sweep waits (null: it does not), keeping the time the pause began.</summary>
    private void Pause(string? outage) => _paused = outage is null ? null : new SweepPause(_paused?.Since ?? DateTime.UtcNow, outage);

    /// <summary>The imported models, in the definition's order (failed ones are left out).</summary>
    private List<ImportedModel> Entries(SweepDefinition definition) =>
        definition.Models.Where(m => state.State.Imported.ContainsKey(m.Id)).Select(m => new ImportedModel(m.Id, state.State.Imported[m.Id])).ToList();

    private IAggregatorGrain Aggregator(SweepDefinition definition) => GrainFactory.GetGrain<IAggregatorGrain>(definition.Dataset);
}
