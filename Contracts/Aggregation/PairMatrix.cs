using Prh.Alignment.Metrics;

namespace Prh.Contracts.Aggregation;

/// <summary>compute_score(prep(first), prep(second)) of one metric: every layer pair (rows: the first model's layers) and the best one.</summary>
[GenerateSerializer, Immutable, Alias("prh.PairMatrix")]
public sealed record PairMatrix(
    [property: Id(0)] MetricSpec Metric,
    [property: Id(1)] string First,
    [property: Id(2)] string Second,
    [property: Id(3)] double[][] Scores,
    [property: Id(4)] double BestScore,
    [property: Id(5)] int[]? BestIndices);
