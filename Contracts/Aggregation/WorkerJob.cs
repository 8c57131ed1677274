using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Aggregation;

/// <summary>One unit of an aggregator's work for a worker: build one model's sketch, or score one tile.</summary>
[GenerateSerializer, Immutable, Alias("prh.WorkerJob")]
public sealed record WorkerJob(
    [property: Id(0)] string Id,
    [property: Id(1)] string Dataset,
    [property: Id(2)] SketchJob? Sketch = null,
    [property: Id(3)] TileJob? Tile = null);

/// <summary>The sketch pieces one model's stored sketch must hold; every Gram-derived piece is built in one pass.</summary>
[GenerateSerializer, Immutable, Alias("prh.SketchJob")]
public sealed record SketchJob([property: Id(0)] StoredFeatures Features, [property: Id(1)] SketchRequest Request);

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

[GenerateSerializer, Immutable, Alias("prh.TileJobMetric")]
public sealed record TileJobMetric([property: Id(0)] MetricSpec Metric, [property: Id(1)] byte[] Pairs)
{
    public bool Has(int pair) => (Pairs[pair >> 3] & (1 << (pair & 7))) != 0;
}
