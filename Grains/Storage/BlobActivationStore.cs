using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// The activation store in one Azure Blob Storage container: blobs at <c>blobs/sha256/{hash}</c>,
/// documents at <c>documents/{name}</c>, their ETags the service's own (they change on every write,
/// even of equal content). Conditional writes use the service's If-Match / If-None-Match, so they are
/// atomic across every silo that shares the container.
/// </summary>
public sealed class BlobActivationStore : IActivationStore
{
    private readonly BlobContainerClient _container;
    private volatile bool _containerReady;

    public BlobActivationStore(BlobContainerClient container)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        // Account and container name only: the client's URI may carry a SAS, and the key is never in it.
        Description = $"azure-blob:{container.AccountName}/{container.Name}";
    }

    public string Description { get; }

    public async Task<BlobRef> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blob = new BlobRef(StoreNames.Sha256Hex(content.Span), content.Length);
        var client = BlobClient(blob);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        // Cheap check first so a large blob that is already there is not sent again.
        if (await client.ExistsAsync(cancellationToken).ConfigureAwait(false))
        {
            return blob;
        }
        try
        {
            var options = new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } };
            await client.UploadAsync(BinaryData.FromBytes(content), options, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Another writer stored the same content first; content addressing makes that a success.
        }
        return blob;
    }

    public async Task<byte[]> GetAsync(BlobRef blob, CancellationToken cancellationToken = default)
    {
        var client = BlobClient(blob);
        byte[] bytes;
        try
        {
            var response = await client.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            bytes = response.Value.Content.ToArray();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(blob, Description);
        }
        var actual = StoreNames.Sha256Hex(bytes);
        if (actual != blob.Sha256 || bytes.LongLength != blob.Length)
        {
            throw new CorruptBlobException(blob, actual, Description);
        }
        return bytes;
    }

    public async Task<bool> ExistsAsync(BlobRef blob, CancellationToken cancellationToken = default)
    {
        var client = BlobClient(blob);
        try
        {
            return await client.ExistsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return false; // the container itself is missing
        }
    }

    public async Task<StoredDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken = default)
    {
        var client = DocumentClient(name);
        try
        {
            // One request returns content and ETag together, so they always belong to each other.
            var response = await client.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            return new StoredDocument(response.Value.Content.ToArray(), response.Value.Details.ETag.ToString());
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async Task<string> WriteDocumentAsync(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var client = DocumentClient(name);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var conditions = expectedETag is null
            ? new BlobRequestConditions { IfNoneMatch = ETag.All }
            : new BlobRequestConditions { IfMatch = new ETag(expectedETag) };
        try
        {
            var response = await client.UploadAsync(BinaryData.FromBytes(content), new BlobUploadOptions { Conditions = conditions }, cancellationToken).ConfigureAwait(false);
            return response.Value.ETag.ToString();
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
        {
            throw new DocumentConflictException(name, expectedETag is null
                ? "already exists"
                : $"expected ETag {expectedETag} but the document changed or does not exist ({e.ErrorCode ?? e.Status.ToString()})");
        }
    }

    public async Task DeleteDocumentAsync(string name, string? expectedETag, CancellationToken cancellationToken = default)
    {
        var client = DocumentClient(name);
        var conditions = expectedETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(expectedETag) };
        try
        {
            await client.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            // If-Match on a missing blob also fails the precondition; absent documents are fine.
            if (await client.ExistsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new DocumentConflictException(name, $"expected ETag {expectedETag} but the document changed");
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // The container is missing, so the document is too.
        }
    }

    private BlobClient BlobClient(BlobRef blob)
    {
        StoreNames.ValidateBlob(blob);
        return _container.GetBlobClient($"blobs/sha256/{blob.Sha256}");
    }

    private BlobClient DocumentClient(string name)
    {
        StoreNames.ValidateDocumentName(name);
        return _container.GetBlobClient($"documents/{name}");
    }

    private async Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        // Only writes create it (reads of a missing container are simply "not found"); concurrent first
        // writers may both ask, which the service answers idempotently. A failure is retried next time.
        if (!_containerReady)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            _containerReady = true;
        }
    }
}
