using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Aggregation;

/// <summary>One unit of an aggregator's work for a worker: build one model's sketch, or score one tile.</summary>
[GenerateSerializer, Immutable, Alias("prh.WorkerJob")]
public sealed record WorkerJob(
    [property: Id(0)] string Id,
    [property: Id(1)] string Dataset,
    [property: Id(2)] SketchJob? Sketch = null,
    [property: Id(3)] TileJob? Tile = null);

/// <summary>The sketch pieces one model's stored sketch must hold; every Gram-derived piece is built in one pass.</summary>
[GenerateSerializer, Immutable, Alias("prh.SketchJob")]
public sealed record SketchJob([property: Id(0)] FeatureInfo Features, [property: Id(1)] SketchPieces Pieces);

/// <summary>
/// Sketch pieces by what they are: neighbour lists of at least <see cref="NeighbourColumns"/> columns
/// (0: none), centred kernels per kernel function, SVCCA bases per cca_dim.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.SketchPieces")]
public sealed record SketchPieces(
    [property: Id(0)] int NeighbourColumns,
    [property: Id(1)] IReadOnlyList<KernelChoice> Kernels,
    [property: Id(2)] IReadOnlyList<int> SvccaDimensions)
{
    public bool Equals(SketchPieces? other) => other is not null && NeighbourColumns == other.NeighbourColumns
        && Kernels.SequenceEqual(other.Kernels) && SvccaDimensions.SequenceEqual(other.SvccaDimensions);

    public override int GetHashCode() => HashCode.Combine(NeighbourColumns, Kernels.Count, SvccaDimensions.Count);
}

/// <summary>A kernel function: the inner product, or an RBF kernel of width <see cref="Sigma"/>.</summary>
[GenerateSerializer, Immutable, Alias("prh.KernelChoice")]
public sealed record KernelChoice([property: Id(0)] bool Rbf, [property: Id(1)] double Sigma)
{
    public override string ToString() => Rbf ? $"rbf{BitConverter.DoubleToInt64Bits(Sigma):x16}" : "ip";
}

/// <summary>
/// A tile: first-argument models against second-argument models, and for each metric the pairs it
/// scores there as a first-major bit mask (bit f * Seconds.Count + s). <see cref="SameModels"/>: both
/// sides are the same models, so the worker loads one block for both.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.TileJob")]
public sealed record TileJob(
    [property: Id(0)] IReadOnlyList<FeatureInfo> Firsts,
    [property: Id(1)] IReadOnlyList<FeatureInfo> Seconds,
    [property: Id(2)] bool SameModels,
    [property: Id(3)] IReadOnlyList<TileJobMetric> Metrics);

[GenerateSerializer, Immutable, Alias("prh.TileJobMetric")]
public sealed record TileJobMetric([property: Id(0)] MetricConfig Metric, [property: Id(1)] byte[] Pairs)
{
    public bool Has(int pair) => (Pairs[pair >> 3] & (1 << (pair & 7))) != 0;
}
