using Prh.Contracts.Storage;

namespace Prh.Contracts.Aggregation;

/// <summary>
/// How a worker's job ended: a scored tile (<see cref="Tile"/>) or a built sketch, else why not: the
/// store was unavailable (<see cref="Outage"/>, tried again once it answers), a feature blob was missing
/// or corrupt (<see cref="Lost"/>, tried again once the sweep has recomputed it), or an error
/// (<see cref="Refused"/>: the input's fault, permanent; otherwise tried again).
/// <see cref="MetricErrors"/>: metrics of a tile refused for these models (their pairs fail, the others are scored).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.JobOutcome")]
public sealed record JobOutcome(
    [property: Id(0)] string JobId,
    [property: Id(1)] string Silo,
    [property: Id(2)] TileRecord? Tile = null,
    [property: Id(3)] string? Error = null,
    [property: Id(4)] bool Refused = false,
    [property: Id(5)] string? Outage = null,
    [property: Id(6)] BlobRef? Lost = null,
    [property: Id(7)] IReadOnlyDictionary<string, string>? MetricErrors = null,
    [property: Id(8)] int SketchPiecesBuilt = 0);
