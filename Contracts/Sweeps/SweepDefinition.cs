using Prh.Alignment.Metrics;
using Prh.Contracts.Datasets;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// A sweep as submitted: every model of one dataset scored against every other with each metric.
/// Paths are absolute (the client resolves them against the spec's folder). ONNX models run over the
/// dataset's inputs (<see cref="Data"/>) in shards of <see cref="ShardSize"/> samples. With <see cref="Calibration"/>,
/// every pair's score is also calibrated by the sweep's one set of permutations.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.SweepDefinition")]
public sealed record SweepDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] string Dataset,
    [property: Id(2)] IReadOnlyList<ModelDefinition> Models,
    [property: Id(3)] IReadOnlyList<MetricSpec> Metrics,
    [property: Id(4)] DatasetSource? Data = null,
    [property: Id(5)] int ShardSize = 256,
    [property: Id(6)] CalibrationSettings? Calibration = null)
{
    /// <summary>Equal by content (lists and maps compared element by element), so a resubmitted sweep is recognised.</summary>
    public bool Equals(SweepDefinition? other) => other is not null && Name == other.Name && Dataset == other.Dataset
        && Models.SequenceEqual(other.Models) && Metrics.SequenceEqual(other.Metrics) && Data == other.Data && ShardSize == other.ShardSize
        && Calibration == other.Calibration;

    public override int GetHashCode() => HashCode.Combine(Name, Dataset, Models.Count, Metrics.Count, ShardSize);
}
