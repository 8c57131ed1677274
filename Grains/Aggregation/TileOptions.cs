using Prh.Alignment.AllPairs;

namespace Prh.Grains.Aggregation;

/// <summary>
/// How a silo scores tiles (configuration section <c>Tiles</c>): the memory its blocks may hold at once,
/// which sizes every tile (two blocks fit), and the disk its local copies of feature blobs may take.
/// </summary>
public sealed class TileOptions
{
    /// <summary>Bytes of block data (sketch pieces stacked for the tile products) held at once: 4 GiB by default.</summary>
    public long MemoryBudget { get; set; } = CpuTileBackend.DefaultMemoryBudget;

    /// <summary>Bytes of feature blobs copied to this machine (a blob store's; a file store's are read in place): 16 GiB by default.</summary>
    public long LocalCacheBytes { get; set; } = 16L << 30;
}
