namespace Prh.Contracts.Sweeps;

/// <summary>
/// A sweep's scoring so far: tiles (blocks of models against blocks) and layer pairs of its metrics'
/// matrices done, of all (pairs already stored count as done), and model sketches built.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.ScoringProgress")]
public sealed record ScoringProgress(
    [property: Id(0)] int TilesDone,
    [property: Id(1)] int TileCount,
    [property: Id(2)] long LayerPairsDone,
    [property: Id(3)] long LayerPairCount,
    [property: Id(4)] int SketchesDone,
    [property: Id(5)] int SketchCount);
