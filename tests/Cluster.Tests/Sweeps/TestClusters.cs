using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Orleans.TestingHost;
using Prh.Grains;
using Prh.Grains.Aggregation;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>Real multi-silo Orleans clusters in this process, on a store of the test's choosing.</summary>
public static class TestClusters
{
    /// <param name="gpuSilos">Which silos, by start order (0 is the primary), publish accelerator=gpu.</param>
    /// <param name="memoryBudget">The silos' tile memory budget (<see cref="TileOptions.MemoryBudget"/>): small ones cut sweeps into many tiles.</param>
    public static async Task<InProcessTestCluster> Start(BlobStoreOptions store, short silos = 3, int[]? gpuSilos = null, long? memoryBudget = null)
    {
        gpuSilos ??= [];
        var builder = new InProcessTestClusterBuilder(silos);
        var started = new List<string>();
        builder.ConfigureSilo((options, silo) =>
        {
            bool gpu;
            lock (started)
            {
                if (!started.Contains(options.SiloName)) started.Add(options.SiloName);
                gpu = gpuSilos.Contains(started.IndexOf(options.SiloName));
            }
            silo.UseSiloMetadata(gpu ? new Dictionary<string, string> { ["accelerator"] = "gpu" } : []);
            if (memoryBudget is { } budget) silo.Services.Configure<TileOptions>(o => o.MemoryBudget = budget);
            silo.AddPrhGrains(store);
        });
        if (Environment.GetEnvironmentVariable("PRH_TEST_LOGS") == "1")
            builder.ConfigureSiloHost((_, host) => host.Logging.AddConsole().SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Information));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>
    /// Budgets that cut the fixtures' pipeline models (N = 128, 5 to 13 layers) into blocks of one model
    /// each, and of a few models each (the default budget holds them all in one block).
    /// </summary>
    public const long OneModelBlocks = 1L << 20, SeveralModelBlocks = 6L << 20;

    public static BlobStoreOptions FileStore(string? directory = null) => new()
    {
        Kind = "file",
        DataDirectory = directory ?? Directory.CreateTempSubdirectory("prh-cluster-").FullName,
    };

    /// <summary>A silo-local service of every silo of the cluster, with the silo's metadata.</summary>
    public static List<(T Service, IReadOnlyDictionary<string, string> Metadata)> PerSilo<T>(InProcessTestCluster cluster) where T : notnull =>
        cluster.Silos.Select(s =>
        {
            var services = cluster.GetSiloServiceProvider(s.SiloAddress);
            var metadata = ((ISiloMetadataCache)services.GetService(typeof(ISiloMetadataCache))!).GetSiloMetadata(s.SiloAddress).Metadata;
            return ((T)services.GetService(typeof(T))!, (IReadOnlyDictionary<string, string>)metadata);
        }).ToList();
}
