using Prh.Alignment.Metrics;

namespace Prh.Alignment.Sketches;

/// <summary>
/// The sketch pieces a set of metrics reads from every model: neighbour lists of enough columns for the
/// largest k, centred kernels per kernel function, SVCCA bases per cca_dim. All Gram-derived pieces of a
/// request are built in one pass over the layers' Grams.
/// </summary>
public sealed record SketchRequest(int NeighbourColumns, IReadOnlyList<KernelFunction> Kernels, IReadOnlyList<int> SvccaDimensions)
{
    public static SketchRequest None { get; } = new(0, [], []);

    /// <summary>What <paramref name="metrics"/> read from models of <paramref name="sampleCount"/> samples.</summary>
    public static SketchRequest For(IEnumerable<MetricSpec> metrics, int sampleCount)
    {
        int columns = 0;
        var kernels = new List<KernelFunction>();
        var dimensions = new List<int>();
        foreach (var metric in metrics)
        {
            switch (metric.Kind)
            {
                case MetricKind.Cka or MetricKind.UnbiasedCka:
                    if (!kernels.Contains(metric.Kernel)) kernels.Add(metric.Kernel);
                    break;
                case MetricKind.Svcca:
                    if (!dimensions.Contains(metric.CcaDim)) dimensions.Add(metric.CcaDim);
                    break;
                case MetricKind.Cknna:
                    columns = Math.Max(columns, Math.Min(metric.TopK!.Value, sampleCount));
                    break;
                default:
                    columns = Math.Max(columns, metric.Columns(sampleCount));
                    break;
            }
        }
        return new SketchRequest(columns, kernels, dimensions);
    }

    /// <summary>Both requests' pieces.</summary>
    public SketchRequest Union(SketchRequest other) => new(Math.Max(NeighbourColumns, other.NeighbourColumns),
        Kernels.Union(other.Kernels).ToList(), SvccaDimensions.Union(other.SvccaDimensions).ToList());
}
