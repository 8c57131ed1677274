namespace Prh.Contracts.Aggregation;

/// <summary>Work an aggregator has done since it was created, counted where it was recorded.</summary>
[GenerateSerializer, Immutable, Alias("prh.AggregatorCounters")]
public sealed record AggregatorCounters(
    [property: Id(0)] long TilesScored,
    [property: Id(1)] long PairsScored,
    [property: Id(2)] long LayerPairsScored,
    [property: Id(3)] long SketchesBuilt);
