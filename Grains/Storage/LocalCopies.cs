using Prh.Contracts.Storage;

namespace Prh.Grains.Storage;

/// <summary>Stored blobs copied to this machine's disk, for the engine and ONNX Runtime, which read files.</summary>
public static class LocalCopies
{
    /// <summary>
    /// Makes <paramref name="path"/> hold <paramref name="blob"/> (verified against its hash on the way),
    /// unless it already does: written to a temporary name and renamed, so readers never see half a file.
    /// </summary>
    public static async Task<string> Ensure(IBlobStore store, BlobRef blob, string path)
    {
        return File.Exists(path) ? path : await Write(await store.GetAsync(blob), path);
    }

    /// <summary>Writes <paramref name="bytes"/> to a temporary name and renames it to <paramref name="path"/>.</summary>
    public static async Task<string> Write(byte[] bytes, string path)
    {
        string temp = path + $".{Guid.NewGuid():N}.tmp";
        await File.WriteAllBytesAsync(temp, bytes);
        File.Move(temp, path, overwrite: true);
        return path;
    }
}
