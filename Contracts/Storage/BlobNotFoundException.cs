namespace Prh.Contracts.Storage;

[GenerateSerializer, Alias("prh.BlobNotFoundException")]
public sealed class BlobNotFoundException(BlobRef blob, string store) : LostBlobException(blob, $"{blob} is not in {store}");
