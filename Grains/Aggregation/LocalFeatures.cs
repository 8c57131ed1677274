using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Stored feature blobs as files on this silo, for the engine, which streams layers from files: the
/// file store's own file where there is one (checked against its hash once per process), else a copy in
/// a folder of this silo's, verified on the way; copies beyond <see cref="TileOptions.LocalCacheBytes"/>
/// are deleted, least recently used first.
/// </summary>
public sealed class LocalFeatures(IActivationStore store, IOptions<TileOptions> options, ILogger<LocalFeatures> logger)
{
    private readonly string _folder = Directory.CreateTempSubdirectory("prh-features-").FullName;
    private readonly Lock _lock = new();
    private readonly HashSet<string> _verified = [];
    private readonly LinkedList<(string Path, long Bytes)> _copies = new(); // most recently used first
    private readonly SemaphoreSlim _fetch = new(1);

    public async Task<string> PathAsync(FeatureInfo features)
    {
        var blob = features.Blob;
        if (store.LocalPath(blob) is { } own)
        {
            lock (_lock) if (_verified.Contains(blob.Sha256)) return own;
            await Verify(own, blob);
            lock (_lock) _verified.Add(blob.Sha256);
            return own;
        }
        string path = Path.Combine(_folder, $"{blob.Sha256}.{features.Format}");
        lock (_lock)
            if (Touch(path)) return path;
        await _fetch.WaitAsync();
        try
        {
            lock (_lock)
                if (Touch(path)) return path;
            await LocalCopies.Write(await store.GetAsync(blob), path);
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
}
