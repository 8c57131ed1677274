using System.Security.Cryptography;
using System.Text;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Storage;

/// <summary>
/// What every <see cref="IBlobStore"/> must do; run once per implementation by the subclasses below.
/// xunit makes a new instance per test, so each test gets a fresh store.
/// </summary>
public abstract class BlobStoreContractTests
{
    protected abstract IBlobStore CreateStore();

    /// <summary>Changes the stored bytes of <paramref name="blob"/> behind the store's back.</summary>
    protected abstract Task CorruptAsync(BlobRef blob);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(5 * 1024 * 1024)]
    public async Task Put_then_get_round_trips(int length)
    {
        var store = CreateStore();
        var content = RandomBytes(length, seed: length);

        var blob = await store.PutAsync(content);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), blob.Sha256);
        Assert.Equal(length, blob.Length);
        Assert.Equal(content, await store.GetAsync(blob));
    }

    [Fact]
    public async Task Put_is_idempotent()
    {
        var store = CreateStore();
        var content = RandomBytes(1000, seed: 7);

        var first = await store.PutAsync(content);
        var second = await store.PutAsync(content);

        Assert.Equal(first, second);
        Assert.Equal(content, await store.GetAsync(second));
    }

    [Fact]
    public async Task Exists_tells_stored_from_missing()
    {
        var store = CreateStore();
        var blob = await store.PutAsync(Encoding.UTF8.GetBytes("present"));
        var missing = Ref(Encoding.UTF8.GetBytes("absent"));

        Assert.True(await store.ExistsAsync(blob));
        Assert.False(await store.ExistsAsync(missing));
    }

    [Fact]
    public async Task Missing_blob_is_BlobNotFound()
    {
        var store = CreateStore();
        var missing = Ref(Encoding.UTF8.GetBytes("never stored"));

        var e = await Assert.ThrowsAsync<BlobNotFoundException>(() => store.GetAsync(missing));
        Assert.Equal(missing, e.Blob);
    }

    [Fact]
    public async Task Corrupted_blob_is_CorruptBlob()
    {
        var store = CreateStore();
        var blob = await store.PutAsync(RandomBytes(4096, seed: 3));

        await CorruptAsync(blob);

        var e = await Assert.ThrowsAsync<CorruptBlobException>(() => store.GetAsync(blob));
        Assert.Equal(blob, e.Blob);
        Assert.Contains("has been discarded", e.Message);
    }

    [Fact]
    public async Task A_corrupt_blob_is_discarded_when_read_and_a_put_of_the_right_content_restores_it()
    {
        var store = CreateStore();
        byte[] content = RandomBytes(4096, seed: 4);
        var blob = await store.PutAsync(content);
        await CorruptAsync(blob);

        await Assert.ThrowsAsync<CorruptBlobException>(() => store.GetAsync(blob));
        Assert.False(await store.ExistsAsync(blob));
        await Assert.ThrowsAsync<BlobNotFoundException>(() => store.GetAsync(blob));

        Assert.Equal(blob, await store.PutAsync(content));
        Assert.Equal(content, await store.GetAsync(blob));
    }

    [Fact]
    public async Task A_reachable_store_probes_healthy()
    {
        Assert.Null(await CreateStore().ProbeAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Blob_with_a_malformed_hash_is_refused()
    {
        var store = CreateStore();

        await Assert.ThrowsAsync<ArgumentException>(() => store.GetAsync(new BlobRef("../../etc/passwd", 1)));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ExistsAsync(new BlobRef(new string('A', 64), 1)));
    }

    [Fact]
    public async Task Document_create_then_read()
    {
        var store = CreateStore();

        Assert.Null(await store.ReadDocumentAsync("indices/one"));
        var etag = await store.WriteDocumentAsync("indices/one", Encoding.UTF8.GetBytes("hello"), expectedETag: null);
        var document = await store.ReadDocumentAsync("indices/one");

        Assert.NotNull(document);
        Assert.Equal("hello", Encoding.UTF8.GetString(document.Content));
        Assert.Equal(etag, document.ETag);
    }

    [Fact]
    public async Task Document_update_with_the_current_ETag_succeeds_and_changes_it()
    {
        var store = CreateStore();
        var first = await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("same"), null);

        var second = await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("same"), first);

        // Equal content, new version: the ETag is not a content hash.
        Assert.NotEqual(first, second);
        var document = await store.ReadDocumentAsync("doc");
        Assert.Equal(second, document!.ETag);
        Assert.Equal("same", Encoding.UTF8.GetString(document.Content));
    }

    [Fact]
    public async Task Document_update_with_a_stale_ETag_conflicts_and_keeps_the_newer_content()
    {
        var store = CreateStore();
        var stale = await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v1"), null);
        await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v2"), stale);

        var e = await Assert.ThrowsAsync<DocumentConflictException>(() => store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v3"), stale));

        Assert.Equal("doc", e.Name);
        Assert.Equal("v2", Encoding.UTF8.GetString((await store.ReadDocumentAsync("doc"))!.Content));
    }

    [Fact]
    public async Task Document_update_of_a_missing_document_conflicts()
    {
        var store = CreateStore();
        var etag = await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v1"), null);
        await store.DeleteDocumentAsync("doc", null);

        await Assert.ThrowsAsync<DocumentConflictException>(() => store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v2"), etag));
        Assert.Null(await store.ReadDocumentAsync("doc"));
    }

    [Fact]
    public async Task Document_create_when_it_exists_conflicts()
    {
        var store = CreateStore();
        await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("first"), null);

        await Assert.ThrowsAsync<DocumentConflictException>(() => store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("second"), null));
        Assert.Equal("first", Encoding.UTF8.GetString((await store.ReadDocumentAsync("doc"))!.Content));
    }

    [Fact]
    public async Task Document_delete_with_the_current_ETag_or_none()
    {
        var store = CreateStore();
        var etag = await store.WriteDocumentAsync("a", Encoding.UTF8.GetBytes("1"), null);
        await store.WriteDocumentAsync("b", Encoding.UTF8.GetBytes("2"), null);

        await store.DeleteDocumentAsync("a", etag);
        await store.DeleteDocumentAsync("b", null);

        Assert.Null(await store.ReadDocumentAsync("a"));
        Assert.Null(await store.ReadDocumentAsync("b"));
        // Absent documents are fine, with or without an ETag.
        await store.DeleteDocumentAsync("a", null);
        await store.DeleteDocumentAsync("b", etag);
        await store.DeleteDocumentAsync("never/was", null);
    }

    [Fact]
    public async Task Document_delete_with_a_stale_ETag_conflicts()
    {
        var store = CreateStore();
        var stale = await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v1"), null);
        await store.WriteDocumentAsync("doc", Encoding.UTF8.GetBytes("v2"), stale);

        await Assert.ThrowsAsync<DocumentConflictException>(() => store.DeleteDocumentAsync("doc", stale));
        Assert.NotNull(await store.ReadDocumentAsync("doc"));
    }

    [Fact]
    public async Task Nested_and_parent_documents_coexist()
    {
        var store = CreateStore();
        await store.WriteDocumentAsync("a", Encoding.UTF8.GetBytes("parent"), null);
        await store.WriteDocumentAsync("a/b", Encoding.UTF8.GetBytes("child"), null);

        Assert.Equal("parent", Encoding.UTF8.GetString((await store.ReadDocumentAsync("a"))!.Content));
        Assert.Equal("child", Encoding.UTF8.GetString((await store.ReadDocumentAsync("a/b"))!.Content));
    }

    [Fact]
    public async Task Concurrent_read_modify_write_loses_no_update()
    {
        var store = CreateStore();
        await store.WriteDocumentAsync("counter", Encoding.ASCII.GetBytes("0"), null);

        async Task IncrementTenTimes()
        {
            for (var i = 0; i < 10; i++)
            {
                while (true)
                {
                    var current = (await store.ReadDocumentAsync("counter"))!;
                    var next = int.Parse(Encoding.ASCII.GetString(current.Content)) + 1;
                    try
                    {
                        await store.WriteDocumentAsync("counter", Encoding.ASCII.GetBytes(next.ToString()), current.ETag);
                        break;
                    }
                    catch (DocumentConflictException)
                    {
                        // Someone wrote in between: read again and retry.
                    }
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(IncrementTenTimes)));

        Assert.Equal("80", Encoding.ASCII.GetString((await store.ReadDocumentAsync("counter"))!.Content));
    }

    public static TheoryData<string> BadNames => new()
    {
        "../x", "/abs", "a//b", "a/../b", "", "a\\b", new string('a', 300), "trailing/", "..", "a/./b", "sp ace", "nul\0", "é",
    };

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task Bad_document_names_are_refused(string name)
    {
        var store = CreateStore();

        var write = await Assert.ThrowsAsync<ArgumentException>(() => store.WriteDocumentAsync(name, new byte[] { 1 }, null));
        await Assert.ThrowsAsync<ArgumentException>(() => store.ReadDocumentAsync(name));
        await Assert.ThrowsAsync<ArgumentException>(() => store.DeleteDocumentAsync(name, null));
        Assert.Contains($"'{name}'", write.Message);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("grains/counter/x.y_z-1")]
    [InlineData("...dots.../v1.2")]
    public async Task Good_document_names_are_accepted(string name)
    {
        var store = CreateStore();

        await store.WriteDocumentAsync(name, new byte[] { 42 }, null);

        Assert.Equal(new byte[] { 42 }, (await store.ReadDocumentAsync(name))!.Content);
    }

    [Fact]
    public void Description_holds_no_secret()
    {
        var store = CreateStore();

        Assert.False(string.IsNullOrWhiteSpace(store.Description));
        Assert.DoesNotContain(AzuriteFixture.AccountKey, store.Description);
        Assert.DoesNotContain("AccountKey", store.Description, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("sig=", store.Description, StringComparison.OrdinalIgnoreCase);
    }

    protected static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static BlobRef Ref(byte[] content) => new(Convert.ToHexStringLower(SHA256.HashData(content)), content.Length);
}
