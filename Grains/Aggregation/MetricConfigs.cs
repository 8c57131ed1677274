using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Aggregation;

public static class MetricConfigs
{
    /// <summary>The engine's metric for a sweep's metric entry; topk defaults to compute_score's 10.</summary>
    public static MetricSpec ToSpec(this MetricConfig metric) =>
        MetricSpec.ForComputeScore(metric.Name, metric.TopK ?? 10, metric.Kernel, metric.Sigma, metric.CcaDim);

    /// <summary>compute_alignment mirrors every metric but cycle_knn: only pairs (models[j], models[i]) with i &lt;= j are scored.</summary>
    public static bool Mirrored(this MetricConfig metric) => metric.ToSpec().Kind != MetricKind.CycleKnn;

    /// <summary>metric(A, B) = metric(B, A) for every layer pair: a pair stored one way serves the other, transposed.</summary>
    public static bool Symmetric(this MetricConfig metric) => metric.ToSpec().Kind is not (MetricKind.Cknna or MetricKind.CycleKnn);

    public static SketchPieces ToPieces(this SketchRequest request) => new(request.NeighbourColumns,
        request.Kernels.Select(k => new KernelChoice(k.IsRbf, k.Sigma)).ToList(), request.SvccaDimensions.ToList());

    public static SketchRequest ToRequest(this SketchPieces pieces) => new(pieces.NeighbourColumns,
        pieces.Kernels.Select(k => k.Rbf ? KernelFunction.Rbf(k.Sigma) : KernelFunction.InnerProduct).ToList(), pieces.SvccaDimensions.ToList());
}
