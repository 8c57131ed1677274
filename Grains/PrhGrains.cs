using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Prh.Grains.Aggregation;
using Prh.Grains.Extraction;
using Prh.Grains.Storage;

namespace Prh.Grains;

public static class PrhGrains
{
    /// <summary>
    /// Everything a PRH silo hosts: the activation store, grain state in it, the per-silo feature and
    /// ONNX session caches, and the GPU-first placement of extraction. Silo metadata (for example
    /// accelerator=gpu) is configured by the host with UseSiloMetadata.
    /// </summary>
    public static ISiloBuilder AddPrhGrains(this ISiloBuilder silo, ActivationStoreOptions store)
    {
        silo.AddActivityPropagation(); // one sweep, one trace: client and grain calls carry the span context
        silo.AddPrhStorage(store);
        silo.Services.AddSingleton<LocalFeatureCache>();
        silo.Services.AddSingleton<ExtractionSessions>();
        silo.Services.AddPlacementFilter<AcceleratorPlacementFilterStrategy, AcceleratorPlacementFilterDirector>(ServiceLifetime.Singleton);
        return silo;
    }
}
