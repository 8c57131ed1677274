namespace Prh.Contracts.Storage;

[GenerateSerializer, Alias("prh.CorruptBlobException")]
public sealed class CorruptBlobException(BlobRef blob, string actualSha256, string store)
    : LostBlobException(blob, $"{blob} in {store} was corrupt (its content hashes to sha256:{actualSha256}) and has been discarded");
