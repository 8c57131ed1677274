using Microsoft.Extensions.DependencyInjection;
using Orleans.Placement;
using Prh.Grains.Aggregation;
using Prh.Grains.Onnx;
using Prh.Grains.Storage;

namespace Prh.Grains;

public static class PrhGrains
{
    /// <summary>
    /// Everything a PRH silo hosts: the store, grain state in it, the per-silo local feature
    /// files, stored sketches and tile worker, the ONNX sessions, the GPU-first placement of extraction
    /// and the placement of each silo's worker on that silo. Silo metadata (for example accelerator=gpu)
    /// is configured by the host with UseSiloMetadata; tile options (<see cref="TileOptions"/>) with
    /// the options pattern, defaults otherwise.
    /// </summary>
    public static ISiloBuilder AddPrhGrains(this ISiloBuilder silo, BlobStoreOptions store)
    {
        silo.AddActivityPropagation(); // one sweep, one trace: client and grain calls carry the span context
        // Sweeps keep a reminder while they run; a host that chose no reminder table (Redis's, say) gets the in-memory one.
        if (!silo.Services.Any(d => d.ServiceType == typeof(IReminderTable))) silo.UseInMemoryReminderService();
        silo.AddPrhStorage(store);
        silo.Services.AddSingleton<LocalBlobs>();
        silo.Services.AddSingleton<SketchStore>();
        silo.Services.AddSingleton<TileWorker>();
        silo.Services.AddSingleton<OnnxSessions>();
        silo.Services.AddPlacementFilter<AcceleratorPlacementFilterStrategy, AcceleratorPlacementFilterDirector>(ServiceLifetime.Singleton);
        silo.Services.AddPlacementFilter<SiloPlacementFilterStrategy, SiloPlacementFilterDirector>(ServiceLifetime.Singleton);
        return silo;
    }
}
