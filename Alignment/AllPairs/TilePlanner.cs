using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// One tile of a plan: first-argument models against second-argument models (indices into the plan's
/// lists), and for each metric the pairs it scores there (null when it has none in this tile).
/// <see cref="SameModels"/>: both sides are the same models, so one block serves both.
/// </summary>
public sealed record TilePlan(IReadOnlyList<int> Firsts, IReadOnlyList<int> Seconds, IReadOnlyList<PairMask?> Masks, bool SameModels)
{
    /// <summary>Layer pairs the tile scores over all its metrics.</summary>
    public long LayerPairs(IReadOnlyList<int> firstLayers, IReadOnlyList<int> secondLayers) =>
        Masks.Where(m => m is not null).Sum(m => m!.Pairs().Sum(p => (long)firstLayers[Firsts[p.First]] * secondLayers[Seconds[p.Second]]));
}

/// <summary>
/// Cuts models into blocks that fit a memory budget and turns the pairs each metric needs into tiles
/// (ALGORITHMS.md, "tile it"): consecutive models form a block while its layers' sketch data take at
/// most half the budget, so the two blocks of any tile fit; a tile is a block against a block, trimmed
/// to the models that have pairs to score there. A fresh symmetric matrix gives the triangle of block
/// pairs; models added to a scored matrix give one block row of tiles, each holding only the new
/// models against one old block.
/// </summary>
public static class TilePlanner
{
    /// <summary>Bytes a block holds per layer for a request: packed kernels and their U-centring terms per kernel function, neighbour lists, SVCCA bases.</summary>
    public static long LayerBytes(int sampleCount, SketchRequest request)
    {
        long n = sampleCount;
        long kernels = request.Kernels.Count * (CentredKernels.RowBytes(sampleCount) + 2 * n * sizeof(double));
        long neighbours = request.NeighbourColumns > 0 ? n * request.NeighbourColumns * (sizeof(int) + sizeof(double)) + n * sizeof(double) : 0;
        long svcca = request.SvccaDimensions.Sum(d => (long)d * n * sizeof(double));
        return kernels + neighbours + svcca;
    }

    /// <summary>
    /// Consecutive runs of models (by their layer counts) whose layers take at most <paramref name="blockBytes"/>
    /// each; a larger model is a block alone, and a block also ends before each index in <paramref name="breaks"/>.
    /// </summary>
    public static IReadOnlyList<(int Start, int End)> Blocks(IReadOnlyList<int> layerCounts, long layerBytes, long blockBytes, IReadOnlySet<int>? breaks = null)
    {
        var blocks = new List<(int, int)>();
        int start = 0;
        long bytes = 0;
        for (int m = 0; m < layerCounts.Count; m++)
        {
            long size = layerCounts[m] * layerBytes;
            if (m > start && (bytes + size > blockBytes || breaks?.Contains(m) == true))
            {
                blocks.Add((start, m));
                start = m;
                bytes = 0;
            }
            bytes += size;
        }
        if (start < layerCounts.Count) blocks.Add((start, layerCounts.Count));
        return blocks;
    }

    /// <summary>
    /// The tiles that score every needed pair once. <paramref name="needed"/>[i] is metric i's
    /// first x second mask over the whole lists; <paramref name="sameModels"/>: the two lists are the
    /// same models (a models x models matrix), cut into the same blocks; <paramref name="breaks"/>: indices
    /// where a block must begin (models already scored among themselves kept apart from new ones, so the
    /// blocks they were scored in, which a silo may still hold, come back unchanged).
    /// </summary>
    public static IReadOnlyList<TilePlan> Plan(IReadOnlyList<int> firstLayers, IReadOnlyList<int> secondLayers, bool sameModels,
        IReadOnlyList<PairMask> needed, long layerBytes, long memoryBudget, IReadOnlySet<int>? breaks = null)
    {
        var firstBlocks = Blocks(firstLayers, layerBytes, memoryBudget / 2, breaks);
        var secondBlocks = sameModels ? firstBlocks : Blocks(secondLayers, layerBytes, memoryBudget / 2, breaks);
        var plans = new List<TilePlan>();
        foreach (var (f0, f1) in firstBlocks)
            foreach (var (s0, s1) in secondBlocks)
            {
                var firsts = Enumerable.Range(f0, f1 - f0).Where(x => needed.Any(m => Enumerable.Range(s0, s1 - s0).Any(y => m[x, y]))).ToList();
                var seconds = Enumerable.Range(s0, s1 - s0).Where(y => needed.Any(m => firsts.Any(x => m[x, y]))).ToList();
                if (firsts.Count == 0 || seconds.Count == 0) continue;
                var masks = needed.Select(m =>
                {
                    var mask = new PairMask(firsts.Count, seconds.Count);
                    for (int x = 0; x < firsts.Count; x++)
                        for (int y = 0; y < seconds.Count; y++) mask[x, y] = m[firsts[x], seconds[y]];
                    return mask.IsEmpty ? null : mask;
                }).ToList();
                plans.Add(new TilePlan(firsts, seconds, masks, sameModels && firsts.SequenceEqual(seconds)));
            }
        return plans;
    }
}
