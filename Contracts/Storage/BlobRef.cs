namespace Prh.Contracts.Storage;

/// <summary>
/// A reference to an immutable blob in the activation store: its SHA-256 (lower-case hex) names it,
/// so equal content is stored once and every read can be verified. Grains pass these, never tensors.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.BlobRef")]
public sealed record BlobRef([property: Id(0)] string Sha256, [property: Id(1)] long Length)
{
    public override string ToString() => $"sha256:{Sha256} ({Length} bytes)";
}
