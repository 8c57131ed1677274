using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

public sealed class BlobStoreFactoryTests
{
    [Fact]
    public void Defaults_are_a_file_store_in_prh_data()
    {
        var options = new BlobStoreOptions();

        Assert.Equal("file", options.Kind);
        Assert.Equal("./prh-data", options.DataDirectory);
        Assert.Equal("prh", options.Container);
        Assert.Equal("Store", BlobStoreOptions.SectionName);
    }

    [Fact]
    public void File_kind_makes_a_file_store_on_the_directory()
    {
        var root = Directory.CreateTempSubdirectory("prh-factory-").FullName;
        try
        {
            var store = BlobStoreFactory.Create(new BlobStoreOptions { Kind = "file", DataDirectory = root });

            Assert.Equal(root, Assert.IsType<FileBlobStore>(store).RootDirectory);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void Blob_kind_with_a_connection_string_makes_a_blob_store_without_leaking_the_key()
    {
        var options = new BlobStoreOptions
        {
            Kind = "blob",
            Container = "things",
            BlobConnectionString = $"DefaultEndpointsProtocol=http;AccountName={AzuriteFixture.AccountName};AccountKey={AzuriteFixture.AccountKey};" +
                $"BlobEndpoint=http://127.0.0.1:1/{AzuriteFixture.AccountName};",
        };

        var store = Assert.IsType<AzureBlobStore>(BlobStoreFactory.Create(options));

        Assert.Equal($"azure-blob:{AzuriteFixture.AccountName}/things", store.Description);
    }

    [Fact]
    public void Blob_kind_with_an_account_url_makes_a_blob_store()
    {
        var options = new BlobStoreOptions { Kind = "blob", BlobAccountUrl = "https://myaccount.blob.core.windows.net" };

        var store = Assert.IsType<AzureBlobStore>(BlobStoreFactory.Create(options));

        Assert.Equal("azure-blob:myaccount/prh", store.Description);
    }

    [Fact]
    public void Blob_kind_without_an_account_names_both_settings()
    {
        var e = Assert.Throws<InvalidOperationException>(() => BlobStoreFactory.Create(new BlobStoreOptions { Kind = "blob" }));

        Assert.Contains("Store:BlobConnectionString", e.Message);
        Assert.Contains("Store:BlobAccountUrl", e.Message);
    }

    [Theory]
    [InlineData("s3")]
    [InlineData("")]
    public void Unknown_kind_names_the_setting(string kind)
    {
        var e = Assert.Throws<InvalidOperationException>(() => BlobStoreFactory.Create(new BlobStoreOptions { Kind = kind }));

        Assert.Contains("Store:Kind", e.Message);
    }

    [Fact]
    public void File_kind_without_a_directory_names_the_setting()
    {
        var e = Assert.Throws<InvalidOperationException>(() => BlobStoreFactory.Create(new BlobStoreOptions { DataDirectory = " " }));

        Assert.Contains("Store:DataDirectory", e.Message);
    }
}
