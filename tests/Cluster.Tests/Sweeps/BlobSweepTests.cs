using Prh.Cluster.Tests.Storage;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>A whole sweep with everything (features, grain state, results) in Azure Blob Storage, on Azurite.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BlobSweepTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task A_sweep_on_azurite_reproduces_the_reference_and_survives_a_restart()
    {
        var store = new BlobStoreOptions
        {
            Kind = "blob",
            BlobConnectionString = azurite.ConnectionString,
            Container = $"sweep-{Guid.NewGuid():N}",
        };
        var models = SweepTests.VisionModels().Take(3).ToList();
        var cluster = await TestClusters.Start(store, silos: 2);
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("blob");
            await sweep.SubmitAsync(SweepTests.Definition("blob", "fixtures", models));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(sweep)).Phase);
            SweepTests.AssertMatchesManifest(await sweep.GetResultsAsync(), models);
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        var restarted = await TestClusters.Start(store, silos: 1);
        try
        {
            var sweep = restarted.Client.GetGrain<ISweepGrain>("blob");
            Assert.Equal(SweepPhase.Completed, (await sweep.GetStatusAsync()).Phase);
            SweepTests.AssertMatchesManifest(await sweep.GetResultsAsync(), models);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }
}
