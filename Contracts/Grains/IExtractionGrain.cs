using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>
/// One shard of one ONNX model's extraction, keyed by the content hash of (model bytes, shard bytes,
/// layers, pooling, mask): its output is stored once and every later request finds it.
/// </summary>
[Alias("prh.IExtractionGrain")]
public interface IExtractionGrain : IGrainWithStringKey
{
    [Alias("Extract")]
    Task<ShardOutput> Extract(ShardRequest request);
}

/// <summary>What to extract: the stored model and shard (a safetensors file of the model's named inputs), and how.</summary>
[GenerateSerializer, Immutable, Alias("prh.ShardRequest")]
public sealed record ShardRequest(
    [property: Id(0)] BlobRef Model,
    [property: Id(1)] BlobRef Shard,
    [property: Id(2)] OnnxSource Source);

/// <summary>A shard's features (safetensors, one layers.i tensor per layer) and where they were made.</summary>
[GenerateSerializer, Immutable, Alias("prh.ShardOutput")]
public sealed record ShardOutput(
    [property: Id(0)] BlobRef Features,
    [property: Id(1)] string ExecutionProvider,
    [property: Id(2)] string Silo,
    [property: Id(3)] bool Cached);

/// <summary>An ONNX model's import as the sweep polls it; <see cref="Outage"/>: it stopped because the store was unavailable (start it again when it is back).</summary>
[GenerateSerializer, Immutable, Alias("prh.ExtractionProgress")]
public sealed record ExtractionProgress(
    [property: Id(0)] int ShardsDone,
    [property: Id(1)] int ShardCount,
    [property: Id(2)] StoredFeatures? Features,
    [property: Id(3)] string? Error,
    [property: Id(4)] IReadOnlyList<string> Providers,
    [property: Id(5)] string? Outage = null);
