using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Datasets;

/// <summary>What to extract: the stored model over the stored shard, taking what <see cref="Source"/> says, after the stored <see cref="Preprocess"/> model.</summary>
[GenerateSerializer, Immutable, Alias("prh.ShardRequest")]
public sealed record ShardRequest(
    [property: Id(0)] BlobRef Model,
    [property: Id(1)] BlobRef Shard,
    [property: Id(2)] OnnxSource Source,
    [property: Id(3)] BlobRef? Preprocess = null)
{
    /// <summary>The request by its content: model, shard, what is taken from the model, and the preprocessing.</summary>
    public string Key => ContentKey.Of(Model.Sha256, Shard.Sha256, Source.Selection, Preprocess?.Sha256);
}
