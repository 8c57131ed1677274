using Prh.Contracts;
using Prh.Contracts.Grains;

namespace Prh.Grains.Models;

[GenerateSerializer, Alias("prh.DatasetState")]
public sealed class DatasetState
{
    [Id(0)] public int? SampleCount { get; set; }
    [Id(1)] public string? FirstModel { get; set; }
}

/// <summary>A dataset's N: the first model registered sets it, every other model must match it.</summary>
public sealed class DatasetGrain([PersistentState("dataset", "prh")] IPersistentState<DatasetState> state) : Grain, IDatasetGrain
{
    public async Task Register(string modelId, int sampleCount)
    {
        if (state.State.SampleCount is { } n)
        {
            if (n != sampleCount)
                throw new RefusalException(
                    $"model '{modelId}' has N = {sampleCount} samples but dataset '{this.GetPrimaryKeyString()}' has N = {n} (set by model '{state.State.FirstModel}')");
            return;
        }
        state.State.SampleCount = sampleCount;
        state.State.FirstModel = modelId;
        await state.WriteStateAsync();
    }

    public Task<int?> GetSampleCount() => Task.FromResult(state.State.SampleCount);
}
