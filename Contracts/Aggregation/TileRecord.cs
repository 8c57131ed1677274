using Prh.Contracts.Storage;

namespace Prh.Contracts.Aggregation;

/// <summary>
/// A scored tile as stored: its pairs' best scores (<see cref="Summary"/>, small, read by the
/// aggregator) and their whole layer x layer matrices (<see cref="Matrices"/>, read on request).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.TileRecord")]
public sealed record TileRecord(
    [property: Id(0)] string Id,
    [property: Id(1)] BlobRef Summary,
    [property: Id(2)] BlobRef Matrices,
    [property: Id(3)] long LayerPairs,
    [property: Id(4)] int Pairs);
