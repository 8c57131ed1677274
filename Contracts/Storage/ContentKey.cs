using System.Security.Cryptography;
using System.Text;

namespace Prh.Contracts.Storage;

/// <summary>A name for work by what it is made of: the SHA-256 (lower-case hex) of its parts, one per line. Equal work gets equal names.</summary>
public static class ContentKey
{
    public static string Of(params IEnumerable<object?> parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))));
}
