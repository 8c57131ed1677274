using Prh.Contracts.Datasets;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>
/// One shard of a dataset (key: <see cref="Shard.GrainKey"/>, the stored inputs of its samples, so the key is
/// its content): has ONNX models run over its samples by <see cref="IExtractionGrain"/>s, GPU silos first.
/// </summary>
[Alias("prh.IShardGrain")]
public interface IShardGrain : IGrainWithStringKey
{
    /// <summary>
    /// The model's features over this shard's samples, after the stored <paramref name="preprocess"/> model where there
    /// is one: found when stored, extracted otherwise (tried again while a silo fails under it); null while the
    /// extraction is still running (<see cref="IExtractionGrain.ExtractAsync"/>), so call again.
    /// </summary>
    [Alias("Extract")]
    Task<ShardOutput?> ExtractAsync(BlobRef model, OnnxSource source, BlobRef? preprocess);
}
