namespace Prh.Contracts.Sweeps;

/// <summary>
/// Where a sweep stands, as data the console renders (<c>prh sweep status</c>, progress bars, JSON):
/// the models left out and why (<see cref="ModelErrors"/>; the others go on), each ONNX model's extraction,
/// the scoring's progress, why the sweep waits while it is <see cref="Paused"/> (the store is away), the
/// stored data found missing or corrupt and recomputed (<see cref="Recoveries"/>), and, for a failed sweep,
/// <see cref="Failure"/>.
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
    [property: Id(7)] IReadOnlyList<ModelError> ModelErrors,
    [property: Id(8)] IReadOnlyList<ModelExtraction> Extractions,
    [property: Id(9)] string? TraceId,
    [property: Id(10)] SweepPause? Paused,
    [property: Id(11)] IReadOnlyList<Recovery> Recoveries,
    [property: Id(12)] ScoringProgress? Scoring,
    [property: Id(13)] string? Failure)
{
    public bool IsFinished => Phase is SweepPhase.Completed or SweepPhase.Failed;
}
