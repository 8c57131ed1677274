using Prh.Contracts.Datasets;

namespace Prh.Contracts.Grains;

/// <summary>
/// A dataset (key: its name): the samples every model of it is run on. It holds their number N, which every
/// model's features must share, and its inputs for ONNX models, cut into shards (<see cref="IShardGrain"/>).
/// </summary>
[Alias("prh.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Registers a model's N; a different N than the dataset's is refused with the model named.</summary>
    [Alias("Register")]
    Task RegisterAsync(string modelId, int sampleCount);

    [Alias("GetSampleCount")]
    Task<int?> GetSampleCountAsync();

    /// <summary>
    /// The dataset's inputs (input name to a .npy or .safetensors file or a stored blob, first axis = sample)
    /// cut into shards of <paramref name="shardSize"/> samples, each stored once, in sample order. Cut on the
    /// first request for these sources and shard size, and found again after; a source file that changed is read again.
    /// </summary>
    [Alias("GetShards")]
    Task<IReadOnlyList<Shard>> GetShardsAsync(IReadOnlyDictionary<string, string> inputs, int shardSize);
}
