using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>
/// What says a source has not changed since it was read: a file's length and last write time, "" for a
/// stored blob (its name fixes its content), null for a file that cannot be read (reading it then says why).
/// </summary>
public static class SourceStamp
{
    public static string? Of(string source)
    {
        if (BlobRef.TryParseUri(source, out _)) return "";
        var file = new FileInfo(source);
        return file.Exists ? $"{file.Length}:{file.LastWriteTimeUtc.Ticks}" : null;
    }
}
