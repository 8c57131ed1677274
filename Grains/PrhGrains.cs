using Microsoft.Extensions.DependencyInjection;
using Prh.Grains.Aggregation;
using Prh.Grains.Storage;

namespace Prh.Grains;

public static class PrhGrains
{
    /// <summary>Everything a PRH silo hosts: the activation store, grain state in it, and the per-silo feature cache.</summary>
    public static ISiloBuilder AddPrhGrains(this ISiloBuilder silo, ActivationStoreOptions store)
    {
        silo.AddPrhStorage(store);
        silo.Services.AddSingleton<LocalFeatureCache>();
        return silo;
    }
}
