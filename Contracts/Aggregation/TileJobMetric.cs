using Prh.Alignment.Metrics;

namespace Prh.Contracts.Aggregation;

[GenerateSerializer, Immutable, Alias("prh.TileJobMetric")]
public sealed record TileJobMetric([property: Id(0)] MetricSpec Metric, [property: Id(1)] byte[] Pairs)
{
    public bool Has(int pair) => (Pairs[pair >> 3] & (1 << (pair & 7))) != 0;
}
