using System.Text.RegularExpressions;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// The store in one Azure Blob Storage container: blobs at <c>blobs/sha256/{hash}</c>,
/// documents at <c>documents/{name}</c>, their ETags the service's own (they change on every write,
/// even of equal content). Conditional writes use the service's If-Match / If-None-Match, so they are
/// atomic across every silo that shares the container. Transient failures are retried by the client's
/// retry policy (<see cref="BlobStoreOptions"/> tunes it); what is left after it is a
/// <see cref="StoreUnavailableException"/> naming the store, never its credentials.
/// </summary>
public sealed partial class AzureBlobStore : IBlobStore
{
    private readonly BlobContainerClient _container;
    private volatile bool _containerReady;

    public AzureBlobStore(BlobContainerClient container)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        // Account and container name only: the client's URI may carry a SAS, and the key is never in it.
        Description = $"azure-blob:{container.AccountName}/{container.Name}";
    }

    public string Description { get; }

    public Task<BlobRef> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default) =>
        Call(() => Put(content, cancellationToken), cancellationToken);

    private async Task<BlobRef> Put(ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
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

    public Task<byte[]> GetAsync(BlobRef blob, CancellationToken cancellationToken = default) =>
        Call(() => Get(blob, cancellationToken), cancellationToken);

    private async Task<byte[]> Get(BlobRef blob, CancellationToken cancellationToken)
    {
        var client = BlobClient(blob);
        byte[] bytes;
        ETag etag;
        try
        {
            var response = await client.DownloadContentAsync(cancellationToken).ConfigureAwait(false);
            bytes = response.Value.Content.ToArray();
            etag = response.Value.Details.ETag;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new BlobNotFoundException(blob, Description);
        }
        var actual = StoreNames.Sha256Hex(bytes);
        if (actual != blob.Sha256 || bytes.LongLength != blob.Length)
        {
            // Only the version read: a writer that has put the right bytes back meanwhile keeps them.
            try
            {
                await client.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, new BlobRequestConditions { IfMatch = etag }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
            }
            throw new CorruptBlobException(blob, actual, Description);
        }
        return bytes;
    }

    public string? LocalPath(BlobRef blob) => null;

    public Task<bool> ExistsAsync(BlobRef blob, CancellationToken cancellationToken = default) =>
        Call(() => Exists(blob, cancellationToken), cancellationToken);

    private async Task<bool> Exists(BlobRef blob, CancellationToken cancellationToken)
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

    public Task<StoredDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken = default) =>
        Call(() => ReadDocument(name, cancellationToken), cancellationToken);

    private async Task<StoredDocument?> ReadDocument(string name, CancellationToken cancellationToken)
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

    public Task<string> WriteDocumentAsync(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken = default) =>
        Call(() => WriteDocument(name, content, expectedETag, cancellationToken), cancellationToken);

    private async Task<string> WriteDocument(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken)
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

    public Task DeleteDocumentAsync(string name, string? expectedETag, CancellationToken cancellationToken = default) =>
        Call(async () => { await DeleteDocument(name, expectedETag, cancellationToken).ConfigureAwait(false); return true; }, cancellationToken);

    public async Task<string?> ProbeAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _container.ExistsAsync(cancel.Token).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (IsOutage(e, CancellationToken.None) || e is OperationCanceledException)
        {
            return cancel.IsCancellationRequested ? $"no answer within {timeout.TotalSeconds:0.#} s" : Reason(e);
        }
    }

    private async Task DeleteDocument(string name, string? expectedETag, CancellationToken cancellationToken)
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

    /// <summary>Runs a store call, turning what the retry policy could not mend into <see cref="StoreUnavailableException"/>.</summary>
    private async Task<T> Call<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (IsOutage(e, cancellationToken))
        {
            throw new StoreUnavailableException(Description, Reason(e));
        }
    }

    /// <summary>Transport failures, timeouts and server-side errors: the store, not the request, is at fault.</summary>
    private static bool IsOutage(Exception e, CancellationToken cancellationToken) => e switch
    {
        RequestFailedException r => r.Status is 0 or 408 or 429 or >= 500,
        AggregateException a => a.InnerExceptions.Count > 0 && a.InnerExceptions.All(i => IsOutage(i, cancellationToken)),
        HttpRequestException or IOException or TimeoutException or System.Net.Sockets.SocketException => true,
        OperationCanceledException => !cancellationToken.IsCancellationRequested, // the client's network timeout
        _ => false,
    };

    /// <summary>The innermost cause's first line, with any URL's query (where a SAS would be) removed.</summary>
    private static string Reason(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: > 0 } a) e = a.InnerExceptions[^1];
        string line = e.Message.Split('\n', 2)[0].Trim();
        return UrlQuery().Replace(line, "$1");
    }

    [GeneratedRegex(@"(https?://[^\s?]*)\?\S*")]
    private static partial Regex UrlQuery();

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
