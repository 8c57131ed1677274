using Prh.Alignment.IO;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>A model's import records its state only when something changed: its features, its source, or the source's stamp.</summary>
public sealed class ModelImportTests
{
    [Fact]
    public void Stored_features_are_equal_by_content_whatever_array_holds_the_widths()
    {
        var blob = new Contracts.Storage.BlobRef(new string('a', 64), 10);
        Assert.Equal(new StoredFeatures(blob, FeatureFormat.Npy, 128, [5, 7], 0.5), new StoredFeatures(blob, FeatureFormat.Npy, 128, [5, 7], 0.5));
        Assert.NotEqual(new StoredFeatures(blob, FeatureFormat.Npy, 128, [5, 7], 0.5), new StoredFeatures(blob, FeatureFormat.Npy, 128, [5, 8], 0.5));
    }

    [Fact]
    public async Task Importing_an_unchanged_file_again_writes_no_state_and_a_touched_one_records_its_new_stamp()
    {
        var options = TestClusters.FileStore();
        var store = new FileBlobStore(options.DataDirectory!);
        var cluster = await TestClusters.Start(options, silos: 1);
        try
        {
            string folder = Directory.CreateTempSubdirectory("prh-import-").FullName;
            string file = Path.Combine(folder, "vis_a.npy");
            File.Copy(SweepTests.FileOf(SweepTests.VisionModels()[0]), file);
            var grain = cluster.Client.GetGrain<IModelGrain>("fixtures/vis_a");
            string document = StoreGrainStorage.DocumentName("model", grain.GetGrainId());

            var first = await grain.ImportAsync(file);
            string? etag = (await store.ReadDocumentAsync(document))?.ETag;
            Assert.NotNull(etag);
            Assert.Equal(first, await grain.ImportAsync(file));
            Assert.Equal(etag, (await store.ReadDocumentAsync(document))!.ETag);

            File.SetLastWriteTimeUtc(file, File.GetLastWriteTimeUtc(file).AddMinutes(1));
            Assert.Equal(first, await grain.ImportAsync(file)); // read again, same content
            Assert.NotEqual(etag, (await store.ReadDocumentAsync(document))!.ETag);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
