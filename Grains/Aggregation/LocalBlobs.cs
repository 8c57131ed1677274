using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prh.Alignment.IO;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Stored blobs as this silo reads them most cheaply. Feature blobs as files, for the engine, which
/// streams layers from files: the file store's own file where there is one, else a copy in a folder of
/// this silo's, verified on the way; copies beyond <see cref="TileOptions.LocalCacheBytes"/> are deleted,
/// least recently used first. Sketch pieces as bytes: read straight from the file store's file. A file
/// store's blob is checked against its hash once per process, when first read, or not at all when this
/// process wrote it (<see cref="Written"/>); a blob store's on every read, by the store.
/// </summary>
public sealed class LocalBlobs(IBlobStore store, IOptions<TileOptions> options, ILogger<LocalBlobs> logger) : IDisposable
{
    // Made at the first copy (a file store needs none) and removed with the silo.
    private readonly Lazy<string> _folder = new(() => Directory.CreateTempSubdirectory("prh-features-").FullName);
    private readonly Lock _lock = new();
    private readonly HashSet<string> _verified = [];
    private readonly LinkedList<(string Path, long Bytes)> _copies = new(); // most recently used first
    private readonly SemaphoreSlim _fetch = new(1);

    /// <summary>This process hashed <paramref name="blob"/>'s content (putting or checking it): its file needs no check.</summary>
    public void Written(BlobRef blob)
    {
        lock (_lock) _verified.Add(blob.Sha256);
    }

    /// <summary>
    /// The blob's bytes, handed to <paramref name="use"/> (which must not keep them): a file store's file
    /// read into a pooled buffer once checked, else the store's verified copy.
    /// </summary>
    public async Task<T> ReadAsync<T>(BlobRef blob, Func<ReadOnlyMemory<byte>, T> use)
    {
        bool verified;
        lock (_lock) verified = _verified.Contains(blob.Sha256);
        if (store.LocalPath(blob) is { } own && verified && blob.Length <= Array.MaxLength)
        {
            var buffer = ArrayPool<byte>.Shared.Rent((int)blob.Length);
            try
            {
                using var handle = File.OpenHandle(own, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
                if (RandomAccess.GetLength(handle) == blob.Length)
                {
                    int read = 0;
                    while (read < blob.Length)
                    {
                        int got = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read, (int)blob.Length - read), read);
                        if (got == 0) break;
                        read += got;
                    }
                    if (read == blob.Length) return use(buffer.AsMemory(0, read));
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            lock (_lock) _verified.Remove(blob.Sha256); // gone or changed since: the store says which
        }
        var bytes = await store.GetAsync(blob); // hashed, and discarded when corrupt
        if (store.LocalPath(blob) is not null) lock (_lock) _verified.Add(blob.Sha256);
        return use(bytes);
    }

    public async Task<string> PathAsync(StoredFeatures features)
    {
        var blob = features.Blob;
        if (store.LocalPath(blob) is { } own)
        {
            lock (_lock) if (_verified.Contains(blob.Sha256)) return own;
            await Verify(own, blob);
            lock (_lock) _verified.Add(blob.Sha256);
            return own;
        }
        string path = Path.Combine(_folder.Value, $"{blob.Sha256}.{features.Format.Extension()}");
        lock (_lock)
            if (Touch(path)) return path;
        await _fetch.WaitAsync();
        try
        {
            lock (_lock)
                if (Touch(path)) return path;
            await AtomicFileWriter.WriteAsync(path, await store.GetAsync(blob));
            lock (_lock)
            {
                _copies.AddFirst((path, blob.Length));
                Evict();
            }
            return path;
        }
        finally
        {
            _fetch.Release();
        }
    }

    /// <summary>A file store's blob read in place is hashed once; a mismatch is handed to the store, which discards it and says so.</summary>
    private async Task Verify(string path, BlobRef blob)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        string actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
        if (actual == blob.Sha256 && stream.Length == blob.Length) return;
        logger.LogWarning("stored features {Blob} do not match their hash", blob);
        await store.GetAsync(blob); // throws CorruptBlobException after discarding the blob
        throw new CorruptBlobException(blob, actual, store.Description);
    }

    private bool Touch(string path)
    {
        for (var node = _copies.First; node is not null; node = node.Next)
        {
            if (node.Value.Path != path) continue;
            if (!File.Exists(path)) { _copies.Remove(node); return false; }
            _copies.Remove(node);
            _copies.AddFirst(node);
            return true;
        }
        return false;
    }

    private void Evict()
    {
        long total = _copies.Sum(c => c.Bytes);
        while (total > options.Value.LocalCacheBytes && _copies.Count > 1)
        {
            var (path, bytes) = _copies.Last!.Value;
            _copies.RemoveLast();
            total -= bytes;
            try { File.Delete(path); } catch (IOException e) { logger.LogWarning(e, "could not delete the local copy {Path}", path); }
        }
    }

    public void Dispose()
    {
        if (!_folder.IsValueCreated) return;
        try { Directory.Delete(_folder.Value, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { logger.LogWarning(e, "could not delete the local copies' folder {Folder}", _folder.Value); }
    }
}
