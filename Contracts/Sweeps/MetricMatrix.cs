using Prh.Alignment.Metrics;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// One metric's models x models matrix with compute_alignment(models, models) semantics: entry
/// [i][j] is compute_score(prep(model j), prep(model i)); indices are (layer of j, layer of i), null
/// where no layer pair scored above 0. A calibrated sweep's matrices carry their <see cref="Calibration"/>.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.MetricMatrix")]
public sealed record MetricMatrix(
    [property: Id(0)] MetricSpec Metric,
    [property: Id(1)] IReadOnlyList<string> Models,
    [property: Id(2)] double[][] Scores,
    [property: Id(3)] int[]?[][] Indices,
    [property: Id(4)] MatrixCalibration? Calibration = null);
