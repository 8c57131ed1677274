using Orleans.Concurrency;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Datasets;

/// <summary>
/// One shard of a dataset, named by its stored inputs (<see cref="Shard.GrainKey"/>), so it needs no state:
/// each model's extraction over it is an <see cref="IExtractionGrain"/>, placed on GPU silos first, and tried
/// again while a silo fails under it (not when the model refuses the input). A stateless worker: every
/// model's request runs at once, on the caller's silo, whatever else the shard is doing.
/// </summary>
[StatelessWorker, Reentrant]
public sealed class ShardGrain : Grain, IShardGrain
{
    private const int Attempts = 3;

    public Task<ShardOutput?> ExtractAsync(BlobRef model, OnnxSource source, BlobRef? preprocess)
    {
        var request = new ShardRequest(model, Shard.InputsOf(this.GetPrimaryKeyString()), source, preprocess);
        return SiloFailures.Retry(() => GrainFactory.GetGrain<IExtractionGrain>(request.Key).ExtractAsync(request), Attempts);
    }
}
