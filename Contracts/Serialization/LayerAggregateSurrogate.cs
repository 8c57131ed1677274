using Prh.Alignment.Calibration;

namespace Prh.Contracts.Serialization;

/// <summary>The engine's <see cref="LayerAggregate"/> on the wire, by its name (<see cref="LayerAggregate.Parse"/> reads it back).</summary>
[GenerateSerializer, Immutable, Alias("prh.LayerAggregate")]
public readonly record struct LayerAggregateSurrogate([property: Id(0)] string Name);

[RegisterConverter]
public sealed class LayerAggregateConverter : IConverter<LayerAggregate, LayerAggregateSurrogate>
{
    public LayerAggregate ConvertFromSurrogate(in LayerAggregateSurrogate s) => LayerAggregate.Parse(s.Name);

    public LayerAggregateSurrogate ConvertToSurrogate(in LayerAggregate a) => new(a.Name);
}
