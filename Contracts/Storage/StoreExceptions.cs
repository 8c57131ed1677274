namespace Prh.Contracts.Storage;

/// <summary>
/// A stored blob that cannot be used: absent, or its bytes do not hash to its name (then it has been
/// discarded from the store). Whoever holds the blob's inputs recomputes it; the sweep re-imports the
/// model whose features were lost. Serialisable, so it crosses grain calls with its type and blob.
/// </summary>
[GenerateSerializer, Alias("prh.LostBlobException")]
public class LostBlobException : Exception
{
    public LostBlobException(BlobRef blob, string message) : base(message) => Blob = blob;

    [Id(0)] public BlobRef Blob { get; private set; }
}

[GenerateSerializer, Alias("prh.BlobNotFoundException")]
public sealed class BlobNotFoundException(BlobRef blob, string store) : LostBlobException(blob, $"{blob} is not in {store}");

[GenerateSerializer, Alias("prh.CorruptBlobException")]
public sealed class CorruptBlobException(BlobRef blob, string actualSha256, string store)
    : LostBlobException(blob, $"{blob} in {store} was corrupt (its content hashes to sha256:{actualSha256}) and has been discarded");

/// <summary>
/// The store cannot be reached (connection refused, timeouts, server errors) after the
/// store client's own retries. Work that meets it waits for the store and goes on; nothing is recorded
/// as failed. The message names the store by <see cref="Description"/> and never holds credentials.
/// </summary>
[GenerateSerializer, Alias("prh.StoreUnavailableException")]
public sealed class StoreUnavailableException : Exception
{
    public StoreUnavailableException(string store, string reason) : base($"the store {store} is unavailable: {reason}") => Store = store;

    [Id(0)] public string Store { get; private set; }
}
