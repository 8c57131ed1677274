using Orleans.TestingHost;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

public interface IPersistentCounterGrain : IGrainWithStringKey
{
    Task<int> IncrementAsync();

    Task<int> GetAsync();
}

public sealed class PersistentCounterGrain([PersistentState("counter", "prh")] IPersistentState<CounterState> counter)
    : Grain, IPersistentCounterGrain
{
    public async Task<int> IncrementAsync()
    {
        counter.State.Value++;
        await counter.WriteStateAsync();
        return counter.State.Value;
    }

    public Task<int> GetAsync() => Task.FromResult(counter.State.Value);
}

public sealed class PersistentCounterClusterTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("prh-cluster-store-").FullName;

    [Fact]
    public async Task Grain_state_outlives_the_whole_cluster()
    {
        var keys = Enumerable.Range(0, 6).Select(i => $"counter-{i}").ToArray();

        await using (var cluster = await StartClusterAsync())
        {
            Assert.Equal(2, cluster.Silos.Count);
            foreach (var (key, i) in keys.Select((k, i) => (k, i)))
            {
                var grain = cluster.Client.GetGrain<IPersistentCounterGrain>(key);
                for (var n = 0; n <= i; n++)
                {
                    await grain.IncrementAsync();
                }
            }
            await cluster.StopAllSilosAsync();
        }

        // Each counter is a document on disk now, named by state and grain.
        var store = new FileBlobStore(_root);
        Assert.NotNull(await store.ReadDocumentAsync(
            StoreGrainStorage.DocumentName("counter", GrainId.Create("persistentcounter", keys[0]))));

        await using (var cluster = await StartClusterAsync())
        {
            foreach (var (key, i) in keys.Select((k, i) => (k, i)))
            {
                Assert.Equal(i + 1, await cluster.Client.GetGrain<IPersistentCounterGrain>(key).GetAsync());
            }
            Assert.Equal(2, await cluster.Client.GetGrain<IPersistentCounterGrain>(keys[0]).IncrementAsync());
            await cluster.StopAllSilosAsync();
        }
    }

    private async Task<InProcessTestCluster> StartClusterAsync()
    {
        var builder = new InProcessTestClusterBuilder(2);
        var options = new BlobStoreOptions { Kind = "file", DataDirectory = _root };
        builder.ConfigureSilo((_, silo) => silo.AddPrhStorage(options));
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
