namespace Prh.Contracts.Sweeps;

/// <summary>
/// A sweep as submitted: every model of one dataset scored against every other with each metric.
/// Feature paths are absolute (the client resolves them against the spec's folder).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.SweepDefinition")]
public sealed record SweepDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] string Dataset,
    [property: Id(2)] IReadOnlyList<ModelSource> Models,
    [property: Id(3)] IReadOnlyList<MetricConfig> Metrics);

/// <summary>One model of a sweep: a safe id and where its features are.</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelSource")]
public sealed record ModelSource([property: Id(0)] string Id, [property: Id(1)] string Features);

/// <summary>
/// A metric with the keyword arguments compute_score passes it (topk for the 'knn' metrics) plus the
/// kernel options; <see cref="Key"/> names the configuration, and so its aggregator.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.MetricConfig")]
public sealed record MetricConfig(
    [property: Id(0)] string Name,
    [property: Id(1)] int? TopK = null,
    [property: Id(2)] string? Kernel = null,
    [property: Id(3)] double? Sigma = null,
    [property: Id(4)] int? CcaDim = null)
{
    public string Key =>
        Name + (TopK is { } k ? $"@{k}" : "") + (Kernel is { } kn ? $"-{kn}" : "") + (Sigma is { } s ? $"-s{s:R}" : "") + (CcaDim is { } d ? $"-d{d}" : "");
}
