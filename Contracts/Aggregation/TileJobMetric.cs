using Prh.Alignment.Metrics;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Aggregation;

/// <summary>A metric of a tile and its pairs (bit mask); with <see cref="Calibration"/> the pairs are calibrated too, by those settings' permutations.</summary>
[GenerateSerializer, Immutable, Alias("prh.TileJobMetric")]
public sealed record TileJobMetric([property: Id(0)] MetricSpec Metric, [property: Id(1)] byte[] Pairs, [property: Id(2)] CalibrationSettings? Calibration = null)
{
    public bool Has(int pair) => (Pairs[pair >> 3] & (1 << (pair & 7))) != 0;
}
