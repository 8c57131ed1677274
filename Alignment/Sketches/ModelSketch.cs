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

    /// <summary>G = X X^T of one layer (N x N, full): the only O(N^2 D) step.</summary>
    private void GramInto(int layer, Span<double> target, Span<double> scratch)
    {
        var features = Features.Layers[layer];
        Blas.Syrk(features.Values(scratch), SampleCount, features.Width, target);
    }

    /// <summary>
    /// Runs <paramref name="body"/> for every layer in parallel, each with the layer's Gram matrix in a
    /// buffer owned by its worker: Grams are consumed where they are made and never kept, so a model's
    /// sketch holds only what the metrics read (neighbour lists, packed centred kernels). Streamed
    /// layers are read into a second buffer of the worker's.
    /// </summary>
    private void ForEachGram(Action<int, double[]> body)
    {
        int size = checked(SampleCount * SampleCount);
        int scratch = Features.Layers.All(l => l.IsInMemory) ? 0 : Features.MaxLayerValues;
        Parallel.For(0, LayerCount, Parallelism,
            () => (Gram: new double[size], Layer: new double[scratch]),
            (layer, _, buffers) =>
            {
                GramInto(layer, buffers.Gram, buffers.Layer);
                body(layer, buffers.Gram);
                return buffers;
            },
            _ => { });
    }

    /// <summary>Neighbour lists of every layer with at least min(topk, N) columns.</summary>
    public NeighbourLists Neighbours(int layer, int topk)
    {
        int columns = NeighbourLists.ColumnsFor(SampleCount, topk);
        lock (_neighbourLock)
        {
            if (_neighbours is null || _neighbours[0].Columns < columns)
            {
                var lists = new NeighbourLists[LayerCount];
                ForEachGram((l, gram) => lists[l] = NeighbourLists.FromGram(gram, SampleCount, columns));
                _neighbours = lists;
            }
            return _neighbours[layer];
        }
    }

    /// <summary>The neighbour lists of every layer, as <see cref="Neighbours"/> builds them.</summary>
    public IReadOnlyList<NeighbourLists> AllNeighbours(int topk)
    {
        Neighbours(0, topk);
        lock (_neighbourLock) return _neighbours!;
    }

    /// <summary>True when neighbour lists of at least min(topk, N) columns are already here.</summary>
    public bool HasNeighbours(int topk)
    {
        lock (_neighbourLock) return _neighbours is not null && _neighbours[0].Columns >= NeighbourLists.ColumnsFor(SampleCount, topk);
    }

    /// <summary>Uses lists built elsewhere (a stored sketch) instead of building them.</summary>
    public void SeedNeighbours(IReadOnlyList<NeighbourLists> lists)
    {
        if (lists.Count != LayerCount || lists.Any(l => l.SampleCount != SampleCount))
            throw new ArgumentException($"{Source}: stored neighbour lists do not fit {LayerCount} layers of {SampleCount} samples");
        lock (_neighbourLock)
            if (_neighbours is null || _neighbours[0].Columns < lists[0].Columns) _neighbours = [.. lists];
    }

    public bool HasKernels(KernelFunction kernel, Centring centring) =>
        _pieces.TryGetValue(("kernels", kernel, centring), out var piece) && piece.IsValueCreated;

    /// <summary>Uses centred kernels built elsewhere (a stored sketch) instead of building them.</summary>
    public void SeedKernels(CentredKernels kernels)
    {
        if (kernels.LayerCount != LayerCount || kernels.SampleCount != SampleCount)
            throw new ArgumentException($"{Source}: stored kernels do not fit {LayerCount} layers of {SampleCount} samples");
        _pieces.TryAdd(("kernels", kernels.Kernel, kernels.Centring), new Lazy<object>(kernels));
    }

    /// <summary>The packed centred kernels of all layers for one kernel function and centring.</summary>
    public CentredKernels Kernels(KernelFunction kernel, Centring centring) => Piece(("kernels", kernel, centring), () =>
    {
        int n = SampleCount, packed = CentredKernels.PackedLength(n);
        if ((long)packed * LayerCount > Array.MaxLength)
            throw new InvalidOperationException($"{Source}: {LayerCount} layers of {n} x {n} kernels exceed one array; use fewer samples per shard");
        var stack = GC.AllocateUninitializedArray<double>(packed * LayerCount);
        var hsic = new double[LayerCount];
        var result = new CentredKernels(n, LayerCount, kernel, centring, stack, hsic);
        ForEachGram((l, gram) =>
        {
            CentredKernels.CentreInPlace(gram, n, kernel, centring);
            var row = stack.AsSpan(l * packed, packed);
            CentredKernels.Pack(gram, n, row);
            hsic[l] = result.HsicFromInnerProduct(ManagedBlas.Dot(row, row));
        });
        return result;
    });

    public SvccaBasis Svcca(int layer, int dimension) =>
        Piece(("svcca", layer, dimension), () => SvccaBasis.Compute(Features.Layers[layer], dimension, Blas));

    /// <summary>Computes (or returns the cached) piece under <paramref name="key"/>, once.</summary>
    internal T Piece<T>(object key, Func<T> compute) where T : class =>
        (T)_pieces.GetOrAdd(key, _ => new Lazy<object>(() => compute(), LazyThreadSafetyMode.ExecutionAndPublication)).Value;
}
