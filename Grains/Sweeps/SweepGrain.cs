using Microsoft.Extensions.Logging;
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
}

/// <summary>
/// Orchestrates one sweep in its background: import every model (checking N against the dataset),
/// then have each metric's aggregator score what it lacks, polling until done. Its state is durable,
/// so a sweep interrupted by a restart resumes when the grain next activates. Reentrant so that status
/// calls are answered while the background work awaits.
/// </summary>
[Reentrant]
public sealed class SweepGrain(
    [PersistentState("sweep", "prh")] IPersistentState<SweepState> state,
    ILogger<SweepGrain> logger) : Grain, ISweepGrain
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(100);
    private Task? _running;

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
        state.State.Imported = state.State.Imported.Where(m => definition.Models.Any(d => d.Id == m.Key)).ToDictionary();
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
            state.State.MetricsDone, definition?.Metrics.Count ?? 0, layerPairs, state.State.Errors.ToList());
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
                var dataset = GrainFactory.GetGrain<IDatasetGrain>(definition.Dataset);
                foreach (var model in definition.Models)
                {
                    var info = await GrainFactory.GetGrain<IModelGrain>($"{definition.Dataset}/{model.Id}").Import(model.Features);
                    await dataset.Register(model.Id, info.SampleCount);
                    state.State.Imported[model.Id] = info;
                    await state.WriteStateAsync();
                }
                state.State.Phase = SweepPhase.Scoring;
                await state.WriteStateAsync();
            }
            var models = Entries(definition);
            for (int m = state.State.MetricsDone; m < definition.Metrics.Count; m++)
            {
                var aggregator = Aggregator(definition, definition.Metrics[m]);
                await aggregator.Ensure(definition.Metrics[m], models);
                while (!await aggregator.IsComplete(models)) await Task.Delay(PollInterval);
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

    private List<ModelEntry> Entries(SweepDefinition definition) =>
        definition.Models.Select(m => new ModelEntry(m.Id, state.State.Imported[m.Id])).ToList();

    private IAggregatorGrain Aggregator(SweepDefinition definition, MetricConfig metric) =>
        GrainFactory.GetGrain<IAggregatorGrain>($"{definition.Dataset}/{metric.Key}");
}
