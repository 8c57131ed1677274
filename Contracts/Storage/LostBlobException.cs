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
