using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// Where the cluster keeps everything: immutable content-addressed blobs (features, sketches, score
/// tiles), named by their SHA-256, written once and verified on every read; and named documents
/// (grain state, indices), mutable under ETag concurrency. Implementations: the file system (the
/// embedded default) and Azure Blob Storage.
/// </summary>
public interface IBlobStore
{
    /// <summary>Where the store is, for logs and status; never holds credentials.</summary>
    string Description { get; }

    /// <summary>Stores <paramref name="content"/> under its SHA-256 (idempotent: existing content is not rewritten).</summary>
    Task<BlobRef> PutAsync(ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default);

    /// <summary>
    /// The blob's bytes, checked against its hash; <see cref="BlobNotFoundException"/> when absent. When
    /// they differ the blob is discarded (so the next put of the right content stores it again) and
    /// <see cref="CorruptBlobException"/> is thrown.
    /// </summary>
    Task<byte[]> GetAsync(BlobRef blob, CancellationToken cancellationToken = default);

    Task<bool> ExistsAsync(BlobRef blob, CancellationToken cancellationToken = default);

    /// <summary>
    /// The blob's own file, when this store keeps blobs as files this machine can read, else null: readers
    /// that stream a file use it instead of a copy. Read only, never written through; not verified here.
    /// </summary>
    string? LocalPath(BlobRef blob);

    /// <summary>A document's content and ETag, or null when it does not exist.</summary>
    Task<StoredDocument?> ReadDocumentAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a document if its current ETag is <paramref name="expectedETag"/> (null: only if it does
    /// not exist yet) and returns the new ETag; <see cref="DocumentConflictException"/> otherwise.
    /// </summary>
    Task<string> WriteDocumentAsync(string name, ReadOnlyMemory<byte> content, string? expectedETag, CancellationToken cancellationToken = default);

    /// <summary>Null when the store answers, else why not (within <paramref name="timeout"/>).</summary>
    Task<string?> ProbeAsync(TimeSpan timeout);

    /// <summary>Deletes a document if its ETag matches (null: whatever it is); absent documents are fine.</summary>
    Task DeleteDocumentAsync(string name, string? expectedETag, CancellationToken cancellationToken = default);
}

/// <summary>A named document's bytes and the ETag a conditional write must present.</summary>
public sealed record StoredDocument(byte[] Content, string ETag);

public sealed class DocumentConflictException(string name, string message) : Exception($"document '{name}': {message}")
{
    public string Name { get; } = name;
}
