using Prh.Contracts.Datasets;

namespace Prh.Contracts.Grains;

/// <summary>
/// One ONNX model run over one shard (key: <see cref="ShardRequest.Key"/>, the request's content): its output
/// is stored once and every later request finds it. Placed on GPU silos first.
/// </summary>
[Alias("prh.IExtractionGrain")]
public interface IExtractionGrain : IGrainWithStringKey
{
    /// <summary>
    /// The stored output, or the run started (or joined) in the background and awaited for a few seconds:
    /// null while it is still running, so call again. A shard can take longer than a grain call may.
    /// </summary>
    [Alias("Extract")]
    Task<ShardOutput?> ExtractAsync(ShardRequest request);
}
