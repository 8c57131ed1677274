using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Prh.Grains.Telemetry;
using Orleans.Concurrency;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Sweeps;

[GenerateSerializer, Alias("prh.SweepState")]
public sealed class SweepState
{
    [Id(0)] public SweepDefinition? Definition { get; set; }
    [Id(1)] public SweepPhase Phase { get; set; }
    [Id(2)] public Dictionary<string, FeatureInfo> Imported { get; set; } = [];
    [Id(3)] public int MetricsDone { get; set; }
    [Id(4)] public List<string> Errors { get; set; } = [];
    [Id(5)] public Dictionary<string, string> Failed { get; set; } = [];
    [Id(6)] public string? TraceId { get; set; }
}

/// <summary>
/// Orchestrates one sweep in its background: import every model (a feature file, or ONNX extraction
/// over the dataset's shards; N checked against the dataset), then have each metric's aggregator score
/// what it lacks, polling until done. A model that fails is reported and left out; the others go on.
/// Its state is durable, so a sweep interrupted by a restart resumes when the grain next activates.
/// Reentrant so that status calls are answered while the background work awaits.
/// </summary>
[Reentrant]
public sealed class SweepGrain(
    [PersistentState("sweep", "prh")] IPersistentState<SweepState> state,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan SiloFailureBudget = TimeSpan.FromMinutes(2);
    private Task? _running;
    private readonly SortedDictionary<string, string> _extraction = new(StringComparer.Ordinal);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (state.State.Phase is SweepPhase.Importing or SweepPhase.Scoring) _running = Run();
        return Task.CompletedTask;
    }

    public async Task<SweepStatus> Submit(SweepDefinition definition)
    {
        SweepValidation.Check(definition);
        if (_running is { IsCompleted: false })
        {
            if (state.State.Definition == definition) return await GetStatus();
            throw new InvalidOperationException($"sweep '{this.GetPrimaryKeyString()}' is still running; submit again when it has finished");
        }
        state.State.Definition = definition;
        state.State.Phase = SweepPhase.Importing;
        state.State.MetricsDone = 0;
        state.State.Errors = [];
        state.State.Failed = [];
        state.State.Imported = [];
        state.State.TraceId = Activity.Current?.TraceId.ToHexString(); // the submitter's trace: the whole sweep is one trace
        await state.WriteStateAsync();
        _running = Run();
        return await GetStatus();
    }

    public async Task<SweepStatus> GetStatus()
    {
        var definition = state.State.Definition;
        long layerPairs = 0;
        if (definition is not null)
            foreach (var metric in definition.Metrics)
                layerPairs += await Aggregator(definition, metric).GetLayerPairsScored();
        return new SweepStatus(this.GetPrimaryKeyString(), state.State.Phase,
            state.State.Imported.Count, definition?.Models.Count ?? 0,
            state.State.MetricsDone, definition?.Metrics.Count ?? 0, layerPairs, state.State.Errors.ToList(), _extraction.Values.ToList(), state.State.TraceId);
    }

    public async Task<IReadOnlyList<MetricMatrix>> GetResults()
    {
        var definition = state.State.Definition ?? throw new InvalidOperationException($"sweep '{this.GetPrimaryKeyString()}' was never submitted");
        if (state.State.Phase != SweepPhase.Completed)
            throw new InvalidOperationException($"sweep '{this.GetPrimaryKeyString()}' is {state.State.Phase.ToString().ToLowerInvariant()}"
                + (state.State.Errors.Count > 0 ? ": " + string.Join("; ", state.State.Errors) : ""));
        var models = Entries(definition);
        var results = new List<MetricMatrix>();
        foreach (var metric in definition.Metrics)
            results.Add(await Aggregator(definition, metric).GetMatrix(models));
        return results;
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
                var dataset = GrainFactory.GetGrain<IDatasetGrain>(definition.Dataset);
                foreach (var model in definition.Models)
                {
                    if (state.State.Imported.ContainsKey(model.Id) || state.State.Failed.ContainsKey(model.Id)) continue;
                    try
                    {
                        var grain = GrainFactory.GetGrain<IModelGrain>($"{definition.Dataset}/{model.Id}");
                        var info = model.Onnx is { } onnx ? await Extract(grain, model.Id, onnx, definition) : await SiloFailures.Retry(() => grain.Import(model.Features!), budget: SiloFailureBudget);
                        await SiloFailures.Retry(() => dataset.Register(model.Id, info.SampleCount), budget: SiloFailureBudget);
                        state.State.Imported[model.Id] = info;
                    }
                    catch (Exception e)
                    {
                        importing.Fail(e);
                        state.State.Failed[model.Id] = e.Message;
                        state.State.Errors.Add($"model '{model.Id}': {e.Message}");
                    }
                    await state.WriteStateAsync();
                }
                if (state.State.Imported.Count == 0) throw new InvalidOperationException("no model could be imported");
                state.State.Phase = SweepPhase.Scoring;
                await state.WriteStateAsync();
            }
            var models = Entries(definition);
            for (int m = state.State.MetricsDone; m < definition.Metrics.Count; m++)
            {
                using var scoring = PrhTelemetry.Source.StartActivity("prh.sweep.score");
                scoring?.SetTag("prh.sweep", this.GetPrimaryKeyString());
                scoring?.SetTag("prh.metric", definition.Metrics[m].Key);
                var aggregator = Aggregator(definition, definition.Metrics[m]);
                var metric = definition.Metrics[m];
                await SiloFailures.Retry(() => aggregator.Ensure(metric, models), budget: SiloFailureBudget);
                // Ensure again on every poll: an aggregator re-activated after its silo died has lost the pairs in flight.
                while (!await SiloFailures.Retry(async () => { await aggregator.Ensure(metric, models); return await aggregator.IsComplete(models); }, budget: SiloFailureBudget))
                    await Task.Delay(PollInterval);
                state.State.MetricsDone = m + 1;
                await state.WriteStateAsync();
            }
            state.State.Phase = SweepPhase.Completed;
        }
        catch (Exception e)
        {
            logger.LogWarning(e, "sweep {Sweep} failed", this.GetPrimaryKeyString());
            state.State.Phase = SweepPhase.Failed;
            state.State.Errors.Add(e.Message);
        }
        await state.WriteStateAsync();
    }

    /// <summary>Starts the model's extraction and polls it, keeping a line of progress for the status.</summary>
    private async Task<FeatureInfo> Extract(IModelGrain grain, string id, OnnxSource onnx, SweepDefinition definition)
    {
        var inputs = definition.Inputs ?? new Dictionary<string, string>();
        await SiloFailures.Retry(() => grain.StartExtraction(onnx, inputs, definition.ShardSize), budget: SiloFailureBudget);
        while (true)
        {
            // A model grain re-activated elsewhere (its silo went away) has no extraction: start it
            // again; the shards already stored are found, not extracted again.
            if (await SiloFailures.Retry(grain.GetExtraction, budget: SiloFailureBudget) is not { } progress)
            {
                await SiloFailures.Retry(() => grain.StartExtraction(onnx, inputs, definition.ShardSize), budget: SiloFailureBudget);
                continue;
            }
            _extraction[id] = $"{id}: {progress.ShardsDone}/{progress.ShardCount} shards" +
                (progress.Providers.Count > 0 ? $" on {string.Join(", ", progress.Providers)}" : "");
            if (progress.Error is { } error) throw new InvalidOperationException(error);
            if (progress.Features is { } features) return features;
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>The imported models, in the definition's order (failed ones are left out).</summary>
    private List<ModelEntry> Entries(SweepDefinition definition) =>
        definition.Models.Where(m => state.State.Imported.ContainsKey(m.Id)).Select(m => new ModelEntry(m.Id, state.State.Imported[m.Id])).ToList();

    private IAggregatorGrain Aggregator(SweepDefinition definition, MetricConfig metric) =>
        GrainFactory.GetGrain<IAggregatorGrain>($"{definition.Dataset}/{metric.Key}");
}
