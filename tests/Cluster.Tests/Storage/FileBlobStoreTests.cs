using System.Text;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

public sealed class FileBlobStoreTests : BlobStoreContractTests, IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("prh-store-").FullName;

    protected override IBlobStore CreateStore() => new FileBlobStore(_root);

    protected override async Task CorruptAsync(BlobRef blob)
    {
        var path = Path.Combine(_root, "blobs", "sha256", blob.Sha256[..2], blob.Sha256);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes);
    }

    [Fact]
    public async Task Blob_lies_at_its_hash_path_and_no_temp_file_is_left()
    {
        var store = CreateStore();

        var blob = await store.PutAsync(Encoding.UTF8.GetBytes("layout"));

        var directory = Path.Combine(_root, "blobs", "sha256", blob.Sha256[..2]);
        Assert.Equal([Path.Combine(directory, blob.Sha256)], Directory.GetFiles(directory));
    }

    [Fact]
    public async Task Documents_survive_a_new_store_instance_on_the_same_directory()
    {
        var etag = await CreateStore().WriteDocumentAsync("persisted/doc", Encoding.UTF8.GetBytes("kept"), null);

        var document = await new FileBlobStore(_root).ReadDocumentAsync("persisted/doc");

        Assert.Equal("kept", Encoding.UTF8.GetString(document!.Content));
        Assert.Equal(etag, document.ETag);
    }

    [Fact]
    public async Task A_writer_waits_for_the_lock_another_process_would_hold()
    {
        var store = CreateStore();
        var etag = await store.WriteDocumentAsync("locked", Encoding.UTF8.GetBytes("v1"), null);
        var lockPath = Path.Combine(_root, "documents", "locked~lock");

        Task<string> write;
        // The same exclusive open (an flock on Unix) a writer in another process takes.
        using (new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None))
        {
            write = store.WriteDocumentAsync("locked", Encoding.UTF8.GetBytes("v2"), etag);
            await Task.Delay(300);
            Assert.False(write.IsCompleted);
            Assert.Equal("v1", Encoding.UTF8.GetString((await store.ReadDocumentAsync("locked"))!.Content));
        }

        var newETag = await write.WaitAsync(TimeSpan.FromSeconds(10));
        var document = await store.ReadDocumentAsync("locked");
        Assert.Equal("v2", Encoding.UTF8.GetString(document!.Content));
        Assert.Equal(newETag, document.ETag);
    }

    [Fact]
    public void Description_names_the_directory()
    {
        Assert.Equal($"file:{Path.GetFullPath(_root)}", CreateStore().Description);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
