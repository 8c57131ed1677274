using Prh.Alignment.Metrics;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Aggregation;

public static class MetricConfigs
{
    /// <summary>The engine's metric for a sweep's metric entry; topk defaults to compute_score's 10.</summary>
    public static MetricSpec ToSpec(this MetricConfig metric) =>
        MetricSpec.ForComputeScore(metric.Name, metric.TopK ?? 10, metric.Kernel, metric.Sigma, metric.CcaDim);
}
