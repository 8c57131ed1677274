using Prh.Contracts.Models;

namespace Prh.Contracts.Aggregation;

/// <summary>
/// A tile: first-argument models against second-argument models, and for each metric the pairs it
/// scores there as a first-major bit mask (bit f * Seconds.Count + s). <see cref="SameModels"/>: both
/// sides are the same models, so the worker loads one block for both.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.TileJob")]
public sealed record TileJob(
    [property: Id(0)] IReadOnlyList<StoredFeatures> Firsts,
    [property: Id(1)] IReadOnlyList<StoredFeatures> Seconds,
    [property: Id(2)] bool SameModels,
    [property: Id(3)] IReadOnlyList<TileJobMetric> Metrics);
