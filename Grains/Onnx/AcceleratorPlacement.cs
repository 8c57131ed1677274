using Orleans.Placement;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.Runtime.Placement;

namespace Prh.Grains.Onnx;

/// <summary>
/// Places a grain on silos whose metadata says <c>accelerator=gpu</c> when there are any, on any
/// compatible silo otherwise. Orleans' own metadata filters match the caller's metadata against the
/// candidates', which is not this rule: extraction should go to the GPU silos whoever asks.
/// </summary>
[GenerateSerializer, Alias("prh.AcceleratorPlacementFilterStrategy")]
public sealed class AcceleratorPlacementFilterStrategy() : PlacementFilterStrategy(order: 0);

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class PreferAcceleratorAttribute() : PlacementFilterAttribute(new AcceleratorPlacementFilterStrategy());

internal sealed class AcceleratorPlacementFilterDirector(ISiloMetadataCache metadata) : IPlacementFilterDirector
{
    public const string Key = "accelerator", Gpu = "gpu";

    public IEnumerable<SiloAddress> Filter(PlacementFilterStrategy filterStrategy, PlacementTarget target, IEnumerable<SiloAddress> silos)
    {
        var all = silos.ToList();
        var gpu = all.Where(IsGpu).ToList();
        return gpu.Count > 0 ? gpu : all;
    }

    private bool IsGpu(SiloAddress silo) =>
        metadata.GetSiloMetadata(silo).Metadata.TryGetValue(Key, out string? value) && value == Gpu;
}
