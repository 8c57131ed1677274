using Prh.Contracts.Datasets;

namespace Prh.Contracts.Grains;

/// <summary>
/// One ONNX model run over one shard (key: <see cref="ShardRequest.Key"/>, the request's content): its output
/// is stored once and every later request finds it. Placed on GPU silos first.
/// </summary>
[Alias("prh.IExtractionGrain")]
public interface IExtractionGrain : IGrainWithStringKey
{
    [Alias("Extract")]
    Task<ShardOutput> ExtractAsync(ShardRequest request);
}
