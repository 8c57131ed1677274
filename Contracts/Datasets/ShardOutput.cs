using Prh.Contracts.Storage;

namespace Prh.Contracts.Datasets;

/// <summary>A shard's features (safetensors, one float32 layers.i tensor per layer) and where they were made.</summary>
[GenerateSerializer, Immutable, Alias("prh.ShardOutput")]
public sealed record ShardOutput(
    [property: Id(0)] BlobRef Features,
    [property: Id(1)] string ExecutionProvider,
    [property: Id(2)] string Silo,
    [property: Id(3)] bool Cached);
