using Orleans.TestingHost;
using Prh.Grains;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>Real multi-silo Orleans clusters in this process, on a store of the test's choosing.</summary>
public static class TestClusters
{
    public static async Task<InProcessTestCluster> Start(ActivationStoreOptions store, short silos = 3)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        builder.ConfigureSilo((_, silo) => silo.AddPrhGrains(store));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public static ActivationStoreOptions FileStore(string? directory = null) => new()
    {
        Kind = "file",
        DataDirectory = directory ?? Directory.CreateTempSubdirectory("prh-cluster-").FullName,
    };
}
