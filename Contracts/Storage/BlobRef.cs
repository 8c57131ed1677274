namespace Prh.Contracts.Storage;

/// <summary>
/// A reference to an immutable blob in the store: its SHA-256 (lower-case hex) names it,
/// so equal content is stored once and every read can be verified. Grains pass these, never tensors.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.BlobRef")]
public sealed record BlobRef([property: Id(0)] string Sha256, [property: Id(1)] long Length)
{
    private const string Scheme = "blob:sha256:";

    public override string ToString() => $"sha256:{Sha256} ({Length} bytes)";

    /// <summary>How specs name a stored blob: <c>blob:sha256:HEX:LENGTH</c> (what <c>prh store put</c> prints).</summary>
    public string ToUri() => $"{Scheme}{Sha256}:{Length}";

    /// <summary>Parses <see cref="ToUri"/>'s form; false for anything else (a file path).</summary>
    public static bool TryParseUri(string? text, out BlobRef blob)
    {
        blob = null!;
        if (text is null || !text.StartsWith(Scheme, StringComparison.Ordinal)) return false;
        string[] parts = text[Scheme.Length..].Split(':');
        if (parts.Length != 2 || parts[0].Length != 64 || !parts[0].All(char.IsAsciiHexDigitLower)
            || !long.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long length))
            return false;
        blob = new BlobRef(parts[0], length);
        return true;
    }
}
