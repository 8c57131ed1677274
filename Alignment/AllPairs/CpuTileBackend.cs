using Prh.Alignment.Compute;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// The tile products on this machine's cores: kernel products as BLAS matrix products of the blocks'
/// stacks (a symmetric rank-k update for a block against itself), one call per core over a slice of the
/// rows' columns (the BLAS runs one thread per call); neighbour overlaps by <see cref="AllPairs.NeighbourOverlaps"/>;
/// the pair-by-pair metrics over the cores with one scratch per thread. Blocks are used where they are.
/// </summary>
public sealed class CpuTileBackend(IBlas blas, long memoryBudget) : ITileBackend
{
    /// <summary>4 GiB of block data: two blocks of about 475 layers at N = 1024, well inside a 24 GiB machine.</summary>
    public const long DefaultMemoryBudget = 4L << 30;

    public static CpuTileBackend Default { get; } = new(Compute.Blas.Default, DefaultMemoryBudget);

    private static readonly int Cores = Environment.ProcessorCount;

    public IBlas Blas { get; } = blas;
    public string Description => $"cpu ({Blas.Description})";
    public long MemoryBudget { get; } = memoryBudget;

    public ITileBlock Upload(SketchBlock block) => new HostBlock(block);

    /// <summary>
    /// A block as this backend holds it, with what permuted passes reuse draw after draw: each kernel stack
    /// unfolded into full N x N matrices (once per block and kernel function: twice the stack's memory), and
    /// one permuted stack and one set of relabelled lists rewritten by every draw. Draws on one block run one at a time.
    /// </summary>
    private sealed class HostBlock(SketchBlock block) : ITileBlock
    {
        public SketchBlock Block { get; } = block;
        public Lock Gate { get; } = new();
        private readonly Dictionary<KernelFunction, double[][]> _unfolded = [];
        private readonly Dictionary<KernelFunction, CentredKernels> _permuted = [];
        private readonly Dictionary<int, NeighbourLists[]> _relabelled = [];

        /// <summary>The block's kernels for the samples relabelled by π, for the layers in <paramref name="used"/> (the others are left as they were).</summary>
        public CentredKernels PermutedKernels(KernelFunction kernel, SamplePermutation permutation, bool[] used, bool unbiasedTerms)
        {
            var kernels = Block.Kernels(kernel);
            int n = kernels.SampleCount;
            if (!_unfolded.TryGetValue(kernel, out var unfolded)) _unfolded[kernel] = unfolded = new double[kernels.LayerCount][];
            if (!_permuted.TryGetValue(kernel, out var permuted))
                _permuted[kernel] = permuted = CentredKernels.Allocate(n, kernels.LayerCount, kernel);
            Parallel.For(0, kernels.LayerCount, new ParallelOptions { MaxDegreeOfParallelism = Cores }, l =>
            {
                if (!used[l]) return;
                if (unfolded[l] is null) // unfolded on the first draw that reads the layer
                {
                    var full = GC.AllocateUninitializedArray<double>(n * n);
                    kernels.Unfold(l, full);
                    unfolded[l] = full;
                }
                CentredKernels.GatherPermuted(unfolded[l], n, permutation, permuted.Row(l));
                if (!unbiasedTerms) return;
                CentredKernels.PermuteVector(kernels.Alpha.AsSpan(l * n, n), permutation, permuted.Alpha.AsSpan(l * n, n));
                CentredKernels.PermuteVector(kernels.Excess.AsSpan(l * n, n), permutation, permuted.Excess.AsSpan(l * n, n));
            });
            return permuted;
        }

        /// <summary>The block's lists of <paramref name="columns"/> columns relabelled by π for the layers in <paramref name="used"/>.</summary>
        public NeighbourLists[] RelabelledLists(int columns, SamplePermutation permutation, bool[] used)
        {
            var lists = Lists(Block, columns);
            if (!_relabelled.TryGetValue(columns, out var relabelled))
                _relabelled[columns] = relabelled = lists.Select(l => l.EmptyLike()).ToArray();
            Parallel.For(0, lists.Length, new ParallelOptions { MaxDegreeOfParallelism = Cores }, l =>
            {
                if (used[l]) lists[l].RelabelInto(permutation, relabelled[l]);
            });
            return relabelled;
        }
    }

    public KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region)
    {
        var x = first.Block.Kernels(kernel);
        var y = second.Block.Kernels(kernel);
        return KernelProducts(x, y.Stack, y.Alpha, y.Excess, y.LayerCount, unbiasedTerms, region);
    }

    public KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region,
        SamplePermutation secondPermutation)
    {
        var host = (HostBlock)second;
        var x = first.Block.Kernels(kernel);
        var rectangles = region with { SameBlock = false };
        lock (host.Gate)
        {
            var y = host.PermutedKernels(kernel, secondPermutation, SecondsUsed(region, second.Block.LayerCount), unbiasedTerms);
            return KernelProducts(x, y.Stack, y.Alpha, y.Excess, y.LayerCount, unbiasedTerms, rectangles);
        }
    }

    private KernelProducts KernelProducts(CentredKernels x, ReadOnlyMemory<double> yStack, double[] yAlpha, double[] yExcess, int ty, bool unbiasedTerms,
        TileRegion region)
    {
        int tx = x.LayerCount;
        var inner = NaNs(tx * ty);
        Products(x.Stack, yStack, x.PackedSize, tx, ty, region, inner);
        if (!unbiasedTerms) return new KernelProducts(inner, null, null);
        var alpha = NaNs(tx * ty);
        var excess = NaNs(tx * ty);
        Products(x.Alpha, yAlpha, x.SampleCount, tx, ty, region, alpha);
        Products(x.Excess, yExcess, x.SampleCount, tx, ty, region, excess);
        return new KernelProducts(inner, alpha, excess);
    }

    public int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region) =>
        Overlaps(first.Block, Lists(second.Block, columns), columns, region);

    public int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region, SamplePermutation secondPermutation)
    {
        var host = (HostBlock)second;
        lock (host.Gate)
            return Overlaps(first.Block, host.RelabelledLists(columns, secondPermutation, SecondsUsed(region, second.Block.LayerCount)), columns, region);
    }

    private static int[] Overlaps(SketchBlock first, NeighbourLists[] second, int columns, TileRegion region)
    {
        var counts = new int[first.LayerCount * second.Length];
        Array.Fill(counts, -1);
        AllPairs.NeighbourOverlaps.Count(Lists(first, columns), second, columns, region.Rectangles, counts);
        return counts;
    }

    public double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region)
    {
        var y = second.Block;
        int columns = PairColumns(metric, y.SampleCount);
        return LayerPairScores(first.Block, y, metric, region, columns > 0 ? Lists(y, columns) : null,
            metric.Kind == MetricKind.Svcca ? b => y.Svcca(b, metric.CcaDim) : null);
    }

    public double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region, SamplePermutation secondPermutation)
    {
        var host = (HostBlock)second;
        var y = second.Block;
        int columns = PairColumns(metric, y.SampleCount);
        lock (host.Gate)
        {
            var used = SecondsUsed(region, y.LayerCount);
            var bases = metric.Kind == MetricKind.Svcca
                ? Enumerable.Range(0, y.LayerCount).Select(b => used[b] ? y.Svcca(b, metric.CcaDim).Permuted(secondPermutation) : null).ToArray()
                : null;
            return LayerPairScores(first.Block, y, metric, region, columns > 0 ? host.RelabelledLists(columns, secondPermutation, used) : null,
                bases is null ? null : b => bases[b]!);
        }
    }

    /// <summary>Neighbour columns a pair-by-pair metric reads (0 for svcca).</summary>
    private static int PairColumns(MetricSpec metric, int n) =>
        metric.Kind == MetricKind.Cknna ? metric.TopK!.Value : metric.Kind == MetricKind.Svcca ? 0 : metric.Columns(n);

    private double[] LayerPairScores(SketchBlock x, SketchBlock y, MetricSpec metric, TileRegion region, NeighbourLists[]? yLists, Func<int, SvccaBasis>? ySvcca)
    {
        int ty = y.LayerCount, n = x.SampleCount;
        var pairs = region.Rectangles.SelectMany(r => Enumerable.Range(r.First0, r.First1 - r.First0)
            .SelectMany(a => Enumerable.Range(r.Second0, r.Second1 - r.Second0).Select(b => (a, b)))).ToArray();
        var scores = NaNs(x.LayerCount * ty);
        int columns = PairColumns(metric, n);
        var xLists = columns > 0 ? Lists(x, columns) : null;
        // cknna's rows are prepared once per layer of the tile, not per pair.
        var xRows = metric.Kind == MetricKind.Cknna ? CknnaRows(xLists!, pairs.Select(p => p.a), columns, metric.Unbiased) : null;
        var yRows = metric.Kind == MetricKind.Cknna ? CknnaRows(yLists!, pairs.Select(p => p.b), columns, metric.Unbiased) : null;
        Func<int, int, Cknna.Scratch?, double> score = metric.Kind switch
        {
            MetricKind.Cknna => (a, b, s) => Cknna.Score(xRows![a]!, yRows![b]!,
                x.CknnaSelf(a, columns, metric.Unbiased), y.CknnaSelf(b, columns, metric.Unbiased), s!),
            MetricKind.CycleKnn => (a, b, _) => CycleKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.LcsKnn => (a, b, _) => LcsKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.EditDistanceKnn => (a, b, _) => EditDistanceKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.Svcca => (a, b, _) => Svcca.Score(x.Svcca(a, metric.CcaDim), ySvcca!(b), Blas),
            _ => throw new ArgumentException($"{metric.Name} is not scored pair by pair"),
        };
        Parallel.For(0, pairs.Length, new ParallelOptions { MaxDegreeOfParallelism = Cores },
            () => metric.Kind == MetricKind.Cknna ? new Cknna.Scratch(n) : null,
            (p, _, scratch) => { scores[pairs[p].a * ty + pairs[p].b] = score(pairs[p].a, pairs[p].b, scratch); return scratch; },
            _ => { });
        return scores;
    }

    /// <summary>The second-block layers a region reads.</summary>
    private static bool[] SecondsUsed(TileRegion region, int layers)
    {
        var used = new bool[layers];
        foreach (var r in region.Rectangles) Array.Fill(used, true, r.Second0, r.Second1 - r.Second0);
        return used;
    }

    private static Cknna.Rows?[] CknnaRows(NeighbourLists[] lists, IEnumerable<int> layers, int topk, bool unbiased)
    {
        var rows = new Cknna.Rows?[lists.Length];
        Parallel.ForEach(layers.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = Cores }, l => rows[l] = new Cknna.Rows(lists[l], topk, unbiased));
        return rows;
    }

    private static NeighbourLists[] Lists(SketchBlock block, int columns) =>
        Enumerable.Range(0, block.LayerCount).Select(l => block.Neighbours(l, columns)).ToArray();

    private static double[] NaNs(int length)
    {
        var values = GC.AllocateUninitializedArray<double>(length);
        Array.Fill(values, double.NaN);
        return values;
    }

    /// <summary>
    /// c[a, b] = x_a · y_b (rows of length k) over the region, on every core: the rows' k columns are cut
    /// into one slice per core, each core computes the whole region over its slice (a rank-k update of
    /// the block for a block against itself, which is half the work; a matrix product per rectangle
    /// otherwise) and the slices' sums are added. Every core's products keep the region's full size,
    /// which is what keeps their arithmetic intensity (and so the cores' share of the peak) high.
    /// </summary>
    private void Products(ReadOnlyMemory<double> x, ReadOnlyMemory<double> y, int k, int tx, int ty, TileRegion region, double[] c)
    {
        int slices = Math.Max(1, Math.Min(Cores, k / 256));
        var partial = new double[slices][];
        partial[0] = c;
        for (int t = 1; t < slices; t++) partial[t] = new double[c.Length];
        Parallel.For(0, slices, new ParallelOptions { MaxDegreeOfParallelism = Cores }, t =>
        {
            int k0 = (int)((long)k * t / slices), k1 = (int)((long)k * (t + 1) / slices);
            var xs = x.Span[k0..];
            var ys = y.Span[k0..];
            if (region.SameBlock)
            {
                Blas.Syrk(xs, tx, k1 - k0, k, partial[t], ty);
                return;
            }
            foreach (var r in region.Rectangles)
                Blas.GemmNT(xs[(r.First0 * k)..], r.First1 - r.First0, k, ys[(r.Second0 * k)..], r.Second1 - r.Second0, k, k1 - k0,
                    partial[t].AsSpan(r.First0 * ty + r.Second0), ty);
        });
        if (slices == 1) return;
        foreach (var r in RegionRows(region, tx, ty))
            for (int t = 1; t < slices; t++)
            {
                var target = c.AsSpan(r.Start, r.Length);
                var add = partial[t].AsSpan(r.Start, r.Length);
                for (int v = 0; v < target.Length; v++) target[v] += add[v];
            }
    }

    /// <summary>The runs of c the region writes: whole rows for a block against itself, each rectangle's row parts otherwise.</summary>
    private static IEnumerable<(int Start, int Length)> RegionRows(TileRegion region, int tx, int ty) => region.SameBlock
        ? Enumerable.Range(0, tx).Select(a => (a * ty, ty))
        : region.Rectangles.SelectMany(r => Enumerable.Range(r.First0, r.First1 - r.First0).Select(a => (a * ty + r.Second0, r.Second1 - r.Second0)));

}
