using Prh.Alignment.Metrics;
namespace Prh.Contracts.Sweeps;

public enum SweepPhase { Pending, Importing, Scoring, Completed, Failed }

/// <summary>
/// Where a sweep stands, for <c>prh sweep status</c> and progress displays. <see cref="Errors"/> names
/// each failed model (the others go on); <see cref="Extraction"/> says, per ONNX model, how many shards
/// are in and which execution providers ran them on which silos. <see cref="Paused"/> says why the
/// sweep waits (the store is unavailable) while it does; <see cref="Recoveries"/> lists stored data that
/// was found missing or corrupt and recomputed from its source.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.SweepStatus")]
public sealed record SweepStatus(
    [property: Id(0)] string Id,
    [property: Id(1)] SweepPhase Phase,
    [property: Id(2)] int ModelsImported,
    [property: Id(3)] int ModelCount,
    [property: Id(4)] int MetricsDone,
    [property: Id(5)] int MetricCount,
    [property: Id(6)] long LayerPairsScored,
    [property: Id(7)] IReadOnlyList<string> Errors,
    [property: Id(8)] IReadOnlyList<string> Extraction,
    [property: Id(9)] string? TraceId,
    [property: Id(10)] string? Paused = null,
    [property: Id(11)] IReadOnlyList<string>? Recoveries = null,
    [property: Id(12)] ScoringProgress? Scoring = null)
{
    public bool IsFinished => Phase is SweepPhase.Completed or SweepPhase.Failed;
}

/// <summary>
/// One metric's models x models matrix with compute_alignment(models, models) semantics: entry
/// [i][j] is compute_score(prep(model j), prep(model i)); indices are (layer of j, layer of i), null
/// where no layer pair scored above 0.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.MetricMatrix")]
public sealed record MetricMatrix(
    [property: Id(0)] MetricSpec Metric,
    [property: Id(1)] IReadOnlyList<string> Models,
    [property: Id(2)] double[][] Scores,
    [property: Id(3)] int[]?[][] Indices);

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
