using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Places a grain keyed by a silo's address on that silo (a silo's tile worker runs with that silo's
/// cores and memory), or on any silo when the addressed one is gone.
/// </summary>
[GenerateSerializer, Alias("prh.SiloPlacementFilterStrategy")]
public sealed class SiloPlacementFilterStrategy() : PlacementFilterStrategy(order: 0);

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class OnKeyedSiloAttribute() : PlacementFilterAttribute(new SiloPlacementFilterStrategy());

internal sealed class SiloPlacementFilterDirector : IPlacementFilterDirector
{
    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var all = silos.ToList();
        string key = target.GrainIdentity.Key.ToString() ?? "";
        var keyed = all.Where(s => s.ToParsableString() == key).ToList();
        return keyed.Count > 0 ? keyed : all;
    }
}
