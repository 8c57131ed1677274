using Azure.Storage.Blobs;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStoreTests(AzuriteFixture azurite) : BlobStoreContractTests
{
    // A fresh container per test (xunit makes an instance per test), so tests never see each other's data.
    private readonly string _containerName = $"t{Guid.NewGuid():N}";

    private BlobContainerClient Container() => new(azurite.ConnectionString, _containerName);

    protected override IBlobStore CreateStore() => new AzureBlobStore(Container());

    protected override async Task CorruptAsync(BlobRef blob)
    {
        // Straight through the SDK, as a faulty writer or bit rot would.
        var client = Container().GetBlobClient($"blobs/sha256/{blob.Sha256}");
        var bytes = (await client.DownloadContentAsync()).Value.Content.ToArray();
        bytes[0] ^= 0xFF;
        await client.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
    }

    [Fact]
    public async Task Layout_and_description()
    {
        var store = CreateStore();

        var blob = await store.PutAsync(new byte[] { 1, 2, 3 });
        await store.WriteDocumentAsync("x/y", new byte[] { 4 }, null);

        var names = new List<string>();
        await foreach (var item in Container().GetBlobsAsync())
        {
            names.Add(item.Name);
        }
        Assert.Equal(new[] { $"blobs/sha256/{blob.Sha256}", "documents/x/y" }, names.Order());
        Assert.Equal($"azure-blob:{AzuriteFixture.AccountName}/{_containerName}", store.Description);
    }

    [Fact]
    public async Task An_unreachable_store_is_StoreUnavailable_naming_the_store_and_never_its_key()
    {
        // Nothing listens on this port: every request is refused, and the (short) retry policy gives up.
        var options = new BlobStoreOptions
        {
            Kind = "blob",
            Container = "down",
            RetryAttempts = 1,
            RetryDelay = TimeSpan.FromMilliseconds(10),
            NetworkTimeout = TimeSpan.FromSeconds(2),
            BlobConnectionString = azurite.ConnectionString.Replace($":{azurite.Port}/", $":{Sweeps.PrhProcesses.FreePort()}/"),
        };
        var store = BlobStoreFactory.Create(options);
        var calls = new Func<Task>[]
        {
            () => store.PutAsync(new byte[] { 1 }), () => store.GetAsync(new BlobRef(new string('a', 64), 1)),
            () => store.ExistsAsync(new BlobRef(new string('a', 64), 1)), () => store.ReadDocumentAsync("d"),
            () => store.WriteDocumentAsync("d", new byte[] { 1 }, null), () => store.DeleteDocumentAsync("d", null),
        };
        foreach (var call in calls)
        {
            var e = await Assert.ThrowsAsync<StoreUnavailableException>(call);
            Assert.StartsWith($"the store azure-blob:{AzuriteFixture.AccountName}/down is unavailable: ", e.Message);
            Assert.DoesNotContain(AzuriteFixture.AccountKey, e.ToString());
        }
        string? reason = await store.ProbeAsync(TimeSpan.FromSeconds(5));
        Assert.NotNull(reason);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, reason);
    }

    [Fact]
    public async Task Reads_of_a_missing_container_are_not_found()
    {
        var store = CreateStore();

        Assert.Null(await store.ReadDocumentAsync("doc"));
        Assert.False(await store.ExistsAsync(new BlobRef(new string('0', 64), 0)));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => store.GetAsync(new BlobRef(new string('0', 64), 0)));
        await store.DeleteDocumentAsync("doc", null);
    }
}
