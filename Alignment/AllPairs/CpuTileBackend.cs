using Prh.Alignment.Compute;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// The tile products on this machine's cores: kernel products as BLAS matrix products of the blocks'
/// stacks (a symmetric rank-k update for a block against itself), split into as many calls as there are
/// cores (the BLAS runs one thread per call); neighbour overlaps by <see cref="AllPairs.NeighbourOverlaps"/>;
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

    private sealed record HostBlock(SketchBlock Block) : ITileBlock;

    public KernelProducts KernelProducts(ITileBlock first, ITileBlock second, KernelFunction kernel, bool unbiasedTerms, TileRegion region)
    {
        var x = first.Block.Kernels(kernel);
        var y = second.Block.Kernels(kernel);
        int tx = x.LayerCount, ty = y.LayerCount;
        var inner = NaNs(tx * ty);
        Products(x.Stack, y.Stack, x.PackedSize, tx, ty, region, inner);
        if (!unbiasedTerms) return new KernelProducts(inner, null, null);
        var alpha = NaNs(tx * ty);
        var excess = NaNs(tx * ty);
        Products(x.Alpha, y.Alpha, x.SampleCount, tx, ty, region, alpha);
        Products(x.Excess, y.Excess, x.SampleCount, tx, ty, region, excess);
        return new KernelProducts(inner, alpha, excess);
    }

    public int[] NeighbourOverlaps(ITileBlock first, ITileBlock second, int columns, TileRegion region)
    {
        var counts = new int[first.Block.LayerCount * second.Block.LayerCount];
        Array.Fill(counts, -1);
        AllPairs.NeighbourOverlaps.Count(Lists(first.Block, columns), Lists(second.Block, columns), columns, region.Rectangles, counts);
        return counts;
    }

    public double[] LayerPairScores(ITileBlock first, ITileBlock second, MetricSpec metric, TileRegion region)
    {
        var x = first.Block;
        var y = second.Block;
        int ty = y.LayerCount, n = x.SampleCount;
        var pairs = region.Rectangles.SelectMany(r => Enumerable.Range(r.First0, r.First1 - r.First0)
            .SelectMany(a => Enumerable.Range(r.Second0, r.Second1 - r.Second0).Select(b => (a, b)))).ToArray();
        var scores = NaNs(x.LayerCount * ty);
        int columns = metric.Kind == MetricKind.Cknna ? metric.TopK!.Value : metric.Kind == MetricKind.Svcca ? 0 : metric.Columns(n);
        var xLists = columns > 0 ? Lists(x, columns) : null;
        var yLists = columns > 0 ? Lists(y, columns) : null;
        Func<int, int, Cknna.Scratch?, double> score = metric.Kind switch
        {
            MetricKind.Cknna => (a, b, s) => Cknna.Score(xLists![a], yLists![b], columns, metric.Unbiased,
                x.CknnaSelf(a, columns, metric.Unbiased), y.CknnaSelf(b, columns, metric.Unbiased), s!),
            MetricKind.CycleKnn => (a, b, _) => CycleKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.LcsKnn => (a, b, _) => LcsKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.EditDistanceKnn => (a, b, _) => EditDistanceKnn.Score(xLists![a], yLists![b], columns),
            MetricKind.Svcca => (a, b, _) => Svcca.Score(x.Svcca(a, metric.CcaDim), y.Svcca(b, metric.CcaDim), Blas),
            _ => throw new ArgumentException($"{metric.Name} is not scored pair by pair"),
        };
        Parallel.For(0, pairs.Length, new ParallelOptions { MaxDegreeOfParallelism = Cores },
            () => metric.Kind == MetricKind.Cknna ? new Cknna.Scratch(n, columns) : null,
            (p, _, scratch) => { scores[pairs[p].a * ty + pairs[p].b] = score(pairs[p].a, pairs[p].b, scratch); return scratch; },
            _ => { });
        return scores;
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
    /// c[a, b] = x_a · y_b (rows of length k) over the region. A block against itself: one symmetric
    /// product, cut into one row part per core (rank-k updates for the diagonal parts, matrix products
    /// between parts: with two cores, one product against two updates of equal work), then mirrored.
    /// Otherwise each rectangle's matrix product, cut into row chunks in proportion to its size. Parts
    /// stay as large as the cores allow: a product's arithmetic intensity grows with its smaller side.
    /// </summary>
    private void Products(ReadOnlyMemory<double> x, ReadOnlyMemory<double> y, int k, int tx, int ty, TileRegion region, double[] c)
    {
        var jobs = new List<(long Work, Action Run)>();
        if (region.SameBlock)
        {
            int parts = Math.Min(tx, Cores);
            int Bound(int p) => (int)((long)tx * p / parts);
            for (int p = 0; p < parts; p++)
                for (int q = 0; q <= p; q++)
                {
                    int r0 = Bound(p), r1 = Bound(p + 1), s0 = Bound(q), s1 = Bound(q + 1);
                    if (p == q)
                        jobs.Add(((long)(r1 - r0) * (r1 - r0) / 2, () =>
                        {
                            int m = r1 - r0;
                            var square = new double[m * m];
                            Blas.Syrk(x.Span.Slice(r0 * k, m * k), m, k, square);
                            for (int i = 0; i < m; i++) square.AsSpan(i * m, m).CopyTo(c.AsSpan((r0 + i) * ty + r0, m));
                        }));
                    else
                        jobs.Add(((long)(r1 - r0) * (s1 - s0), () =>
                            Blas.GemmNT(x.Span.Slice(r0 * k, (r1 - r0) * k), r1 - r0, x.Span.Slice(s0 * k, (s1 - s0) * k), s1 - s0, k,
                                c.AsSpan(r0 * ty + s0), ty)));
                }
            Run(jobs);
            for (int a = 0; a < tx; a++)
                for (int b = a + 1; b < tx; b++) c[a * ty + b] = c[b * ty + a];
            return;
        }
        long total = Math.Max(1, region.LayerPairs);
        foreach (var r in region.Rectangles)
        {
            int rows = r.First1 - r.First0, cols = r.Second1 - r.Second0;
            int chunks = (int)Math.Clamp(Math.Round((double)Cores * r.Pairs / total), 1, rows);
            for (int part = 0; part < chunks; part++)
            {
                int a0 = r.First0 + (int)((long)rows * part / chunks), a1 = r.First0 + (int)((long)rows * (part + 1) / chunks);
                jobs.Add(((long)(a1 - a0) * cols, () =>
                    Blas.GemmNT(x.Span.Slice(a0 * k, (a1 - a0) * k), a1 - a0, y.Span.Slice(r.Second0 * k, cols * k), cols, k,
                        c.AsSpan(a0 * ty + r.Second0), ty)));
            }
        }
        Run(jobs);
    }

    /// <summary>Largest jobs first, over the cores.</summary>
    private static void Run(List<(long Work, Action Run)> jobs) =>
        Parallel.ForEach(jobs.OrderByDescending(j => j.Work), new ParallelOptions { MaxDegreeOfParallelism = Cores }, j => j.Run());
}
