namespace Prh.Contracts.Models;

/// <summary>
/// An ONNX model's extraction as its sweep follows it: shards done of all, the execution providers and silos
/// that ran them, and its end: the features, an error, or <see cref="Outage"/> (it stopped
/// because the store was unavailable; start it again when the store is back).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.ExtractionProgress")]
public sealed record ExtractionProgress(
    [property: Id(0)] int ShardsDone,
    [property: Id(1)] int ShardCount,
    [property: Id(2)] StoredFeatures? Features,
    [property: Id(3)] string? Error,
    [property: Id(4)] IReadOnlyList<ExtractionSite> Sites,
    [property: Id(5)] string? Outage = null);
