using System.Collections.Concurrent;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;

namespace Prh.Alignment.Sketches;

/// <summary>
/// Everything the metrics need from one model's layers, each piece computed once, on first demand,
/// and shared by every layer pair and every model pair that uses it: the Gram matrices, the neighbour
/// lists, the centred kernels (one stack per kernel and centring), the SVCCA bases and the cknna
/// self-similarities. Layers are processed in parallel; the BLAS runs one thread per call.
/// Thread-safe: concurrent requests for the same piece compute it once.
/// </summary>
public sealed class ModelSketch
{
    private readonly ConcurrentDictionary<object, Lazy<object>> _pieces = new();
    private readonly Lock _neighbourLock = new();
    private NeighbourLists[]? _neighbours;

    /// <summary>Sketches features as given; call <see cref="FeaturePreparation.Prepare"/> first for the pipeline semantics.</summary>
    public ModelSketch(ModelFeatures features, IBlas? blas = null)
    {
        Features = features;
        Blas = blas ?? Compute.Blas.Default;
    }

    public ModelFeatures Features { get; }
    public IBlas Blas { get; }
    public string Source => Features.Source;
    public int SampleCount => Features.SampleCount;
    public int LayerCount => Features.LayerCount;

    internal static readonly ParallelOptions Parallelism = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>G = X X^T per layer (N x N, full). The only O(N^2 D) step.</summary>
    public double[] Gram(int layer) => Grams()[layer];

    private double[][] Grams() => Piece("gram", () =>
    {
        int n = SampleCount;
        var grams = new double[LayerCount][];
        Parallel.For(0, LayerCount, Parallelism, l =>
        {
            var layer = Features.Layers[l];
            var g = new double[(long)n * n];
            Blas.Syrk(layer.Data, n, layer.Width, g);
            grams[l] = g;
        });
        return grams;
    });

    /// <summary>Neighbour lists of every layer with at least min(topk, N) columns.</summary>
    public NeighbourLists Neighbours(int layer, int topk)
    {
        int columns = NeighbourLists.ColumnsFor(SampleCount, topk);
        lock (_neighbourLock)
        {
            if (_neighbours is null || _neighbours[0].Columns < columns)
            {
                var grams = Grams();
                var lists = new NeighbourLists[LayerCount];
                Parallel.For(0, LayerCount, Parallelism, l => lists[l] = NeighbourLists.FromGram(grams[l], SampleCount, columns));
                _neighbours = lists;
            }
            return _neighbours[layer];
        }
    }

    /// <summary>The centred kernels of all layers for one kernel function and centring.</summary>
    public CentredKernels Kernels(KernelFunction kernel, Centring centring) => Piece(("kernels", kernel, centring), () =>
    {
        int n = SampleCount;
        long size = (long)n * n;
        if (size * LayerCount > Array.MaxLength)
            throw new InvalidOperationException($"{Source}: {LayerCount} layers of {n} x {n} kernels exceed one array; use fewer samples per shard");
        var grams = Grams();
        var stack = new double[size * LayerCount];
        var hsic = new double[LayerCount];
        var result = new CentredKernels(n, LayerCount, kernel, centring, stack, hsic);
        Parallel.For(0, LayerCount, Parallelism, l =>
        {
            var target = stack.AsSpan((int)(l * size), (int)size);
            CentredKernels.CentreInto(grams[l], n, kernel, centring, target);
            hsic[l] = result.HsicFromInnerProduct(ManagedBlas.Dot(target, target));
        });
        return result;
    });

    public SvccaBasis Svcca(int layer, int dimension) =>
        Piece(("svcca", layer, dimension), () => SvccaBasis.Compute(Features.Layers[layer], dimension, Blas));

    /// <summary>Computes (or returns the cached) piece under <paramref name="key"/>, once.</summary>
    internal T Piece<T>(object key, Func<T> compute) where T : class =>
        (T)_pieces.GetOrAdd(key, _ => new Lazy<object>(() => compute(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
}
