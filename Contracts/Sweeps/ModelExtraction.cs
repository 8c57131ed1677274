using Prh.Contracts.Models;

namespace Prh.Contracts.Sweeps;

/// <summary>An ONNX model's extraction as the sweep saw it last: shards done of all, and where they ran.</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelExtraction")]
public sealed record ModelExtraction(
    [property: Id(0)] string Model,
    [property: Id(1)] int ShardsDone,
    [property: Id(2)] int ShardCount,
    [property: Id(3)] IReadOnlyList<ExtractionSite> Sites);
