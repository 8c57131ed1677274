namespace Prh.Contracts.Aggregation;

/// <summary>One unit of an aggregator's work for a worker: build one model's sketch, or score one tile.</summary>
[GenerateSerializer, Immutable, Alias("prh.WorkerJob")]
public sealed record WorkerJob(
    [property: Id(0)] string Id,
    [property: Id(1)] string Dataset,
    [property: Id(2)] SketchJob? Sketch = null,
    [property: Id(3)] TileJob? Tile = null);
