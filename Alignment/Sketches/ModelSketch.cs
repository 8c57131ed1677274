using System.Diagnostics;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Sketches;

/// <summary>
/// Everything the metrics need from one model's layers, each piece computed once and shared by every
/// layer pair, tile and metric that reads it: the neighbour lists, the centred kernels (one stack per
/// kernel function, serving both HSICs), the SVCCA bases and the cknna self-similarities. One pass over
/// the layers' Grams builds every Gram-derived piece a <see cref="SketchRequest"/> asks for, so one Gram
/// per layer feeds both its neighbour lists and its kernels. Pieces may also be seeded from a stored
/// sketch; the features are then read only if a piece is still missing. Layers are processed in
/// parallel; the BLAS runs one thread per call. Thread-safe.
/// </summary>
public sealed class ModelSketch
{
    private readonly Lazy<ModelFeatures> _features;
    private readonly Lock _lock = new();
    private NeighbourLists[]? _neighbours;
    private readonly Dictionary<KernelFunction, CentredKernels> _kernels = [];
    private readonly Dictionary<int, SvccaBasis[]> _svcca = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(int Layer, int K, bool Unbiased), double> _cknnaSelf = new();

    /// <summary>Sketches features as given; call <see cref="FeaturePreparation.Prepare(ModelFeatures, double)"/> first for the pipeline semantics.</summary>
    public ModelSketch(ModelFeatures features, IBlas? blas = null)
        : this(features.Source, features.SampleCount, features.Layers.Select(l => l.Width).ToArray(), () => features, blas)
    {
    }

    /// <summary>A sketch whose features are read (by <paramref name="features"/>) only when a piece must be built from them.</summary>
    public ModelSketch(string source, int sampleCount, IReadOnlyList<int> layerWidths, Func<ModelFeatures> features, IBlas? blas = null)
    {
        if (layerWidths.Count == 0) throw new ArgumentException($"{source}: a model needs at least one layer", nameof(layerWidths));
        Source = source;
        SampleCount = sampleCount;
        LayerWidths = layerWidths;
        Blas = blas ?? Compute.Blas.Default;
        _features = new Lazy<ModelFeatures>(() =>
        {
            var loaded = features();
            if (loaded.SampleCount != sampleCount || !loaded.Layers.Select(l => l.Width).SequenceEqual(layerWidths))
                throw new InvalidDataException($"{source}: the features do not have the {layerWidths.Count} layers of {sampleCount} samples the sketch was made for");
            return loaded;
        });
    }

    public ModelFeatures Features => _features.Value;
    public IBlas Blas { get; }
    public string Source { get; }
    public int SampleCount { get; }
    public IReadOnlyList<int> LayerWidths { get; }
    public int LayerCount => LayerWidths.Count;

    internal static readonly ParallelOptions Parallelism = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>
    /// Builds what <paramref name="request"/> asks for and the sketch lacks: one Gram pass for neighbours
    /// and kernels. <paramref name="timings"/>, when given, gathers the core-seconds of each step.
    /// </summary>
    public void Ensure(SketchRequest request, SketchTimings? timings = null)
    {
        lock (_lock)
        {
            int columns = HasNeighboursLocked(request.NeighbourColumns) ? 0 : request.NeighbourColumns;
            var kernels = request.Kernels.Where(k => !_kernels.ContainsKey(k)).ToList();
            if (columns > 0 || kernels.Count > 0) BuildFromGrams(columns, kernels, timings);
            foreach (int dimension in request.SvccaDimensions)
            {
                if (_svcca.ContainsKey(dimension)) continue;
                var bases = new SvccaBasis[LayerCount];
                Parallel.For(0, LayerCount, Parallelism, l =>
                {
                    long start = Stopwatch.GetTimestamp();
                    bases[l] = SvccaBasis.Compute(Features.Layers[l], dimension, Blas);
                    timings?.AddSvcca(Stopwatch.GetTimestamp() - start);
                });
                _svcca[dimension] = bases;
            }
        }
    }

    /// <summary>
    /// Runs over every layer in parallel, each worker with the layer's Gram in a buffer of its own:
    /// Grams are consumed where they are made and never kept, so a sketch holds only what the metrics
    /// read. Streamed layers are read into a second buffer of the worker's.
    /// </summary>
    private void BuildFromGrams(int columns, List<KernelFunction> kernels, SketchTimings? timings = null)
    {
        int n = SampleCount, size = checked(n * n);
        var features = Features;
        int scratch = features.Layers.All(l => l.IsInMemory) ? 0 : features.MaxLayerValues;
        var lists = columns > 0 ? new NeighbourLists[LayerCount] : null;
        var stacks = kernels.Select(k => CentredKernels.Allocate(n, LayerCount, k)).ToList();
        Parallel.For(0, LayerCount, Parallelism,
            () => (Gram: new double[size], Copy: stacks.Count > 1 ? new double[size] : [], Layer: new double[scratch]),
            (layer, _, buffers) =>
            {
                var values = features.Layers[layer];
                long start = Stopwatch.GetTimestamp();
                Blas.Syrk(values.Values(buffers.Layer), n, values.Width, buffers.Gram);
                long gram = Stopwatch.GetTimestamp();
                timings?.AddGrams(gram - start);
                if (lists is not null) lists[layer] = NeighbourLists.FromGram(buffers.Gram, n, columns);
                long listed = Stopwatch.GetTimestamp();
                timings?.AddNeighbourLists(listed - gram);
                for (int k = 0; k < stacks.Count; k++)
                {
                    // Centring overwrites the Gram; every kernel but the last works on a copy.
                    var target = buffers.Gram.AsSpan();
                    if (k < stacks.Count - 1) { target.CopyTo(buffers.Copy); target = buffers.Copy; }
                    CentredKernels.FromGram(target, n, stacks[k].Kernel, stacks[k], layer);
                }
                timings?.AddKernels(Stopwatch.GetTimestamp() - listed);
                return buffers;
            },
            _ => { });
        if (lists is not null) _neighbours = lists;
        foreach (var stack in stacks) _kernels[stack.Kernel] = stack;
    }

    /// <summary>Layer <paramref name="layer"/>'s neighbour lists with at least min(topk, N) columns.</summary>
    public NeighbourLists Neighbours(int layer, int topk) => AllNeighbours(topk)[layer];

    /// <summary>Every layer's neighbour lists with at least min(topk, N) columns, built if missing.</summary>
    public IReadOnlyList<NeighbourLists> AllNeighbours(int topk)
    {
        int columns = NeighbourLists.ColumnsFor(SampleCount, topk);
        lock (_lock)
        {
            if (!HasNeighboursLocked(columns)) BuildFromGrams(columns, []);
            return _neighbours!;
        }
    }

    /// <summary>True when neighbour lists of at least min(topk, N) columns are already here.</summary>
    public bool HasNeighbours(int topk)
    {
        lock (_lock) return HasNeighboursLocked(NeighbourLists.ColumnsFor(SampleCount, topk));
    }

    private bool HasNeighboursLocked(int columns) => columns == 0 || _neighbours is not null && _neighbours[0].Columns >= columns;

    /// <summary>Uses lists built elsewhere (a stored sketch) instead of building them.</summary>
    public void SeedNeighbours(IReadOnlyList<NeighbourLists> lists)
    {
        if (lists.Count != LayerCount || lists.Any(l => l.SampleCount != SampleCount))
            throw new ArgumentException($"{Source}: stored neighbour lists do not fit {LayerCount} layers of {SampleCount} samples");
        lock (_lock)
            if (_neighbours is null || _neighbours[0].Columns < lists[0].Columns) _neighbours = [.. lists];
    }

    /// <summary>Every layer's centred kernels for <paramref name="kernel"/>, built if missing.</summary>
    public CentredKernels Kernels(KernelFunction kernel)
    {
        lock (_lock)
        {
            if (!_kernels.TryGetValue(kernel, out var kernels))
            {
                BuildFromGrams(0, [kernel]);
                kernels = _kernels[kernel];
            }
            return kernels;
        }
    }

    public bool HasKernels(KernelFunction kernel)
    {
        lock (_lock) return _kernels.ContainsKey(kernel);
    }

    /// <summary>Uses centred kernels built elsewhere (a stored sketch) instead of building them.</summary>
    public void SeedKernels(CentredKernels kernels)
    {
        if (kernels.LayerCount != LayerCount || kernels.SampleCount != SampleCount)
            throw new ArgumentException($"{Source}: stored kernels do not fit {LayerCount} layers of {SampleCount} samples");
        lock (_lock) _kernels.TryAdd(kernels.Kernel, kernels);
    }

    /// <summary>Layer <paramref name="layer"/>'s SVCCA basis of <paramref name="dimension"/> directions, built if missing.</summary>
    public SvccaBasis Svcca(int layer, int dimension) => AllSvcca(dimension)[layer];

    public IReadOnlyList<SvccaBasis> AllSvcca(int dimension)
    {
        lock (_lock)
        {
            if (!_svcca.ContainsKey(dimension)) Ensure(new SketchRequest(0, [], [dimension]));
            return _svcca[dimension];
        }
    }

    public bool HasSvcca(int dimension)
    {
        lock (_lock) return _svcca.ContainsKey(dimension);
    }

    /// <summary>Uses SVCCA bases built elsewhere (a stored sketch).</summary>
    public void SeedSvcca(int dimension, IReadOnlyList<SvccaBasis> bases)
    {
        if (bases.Count != LayerCount || bases.Any(b => b.SampleCount != SampleCount || b.Dimension != dimension))
            throw new ArgumentException($"{Source}: stored SVCCA bases do not fit {LayerCount} layers of {SampleCount} samples and cca_dim {dimension}");
        lock (_lock) _svcca.TryAdd(dimension, [.. bases]);
    }

    /// <summary>sim(K, K) of cknna, once per layer, k and variant.</summary>
    public double CknnaSelf(int layer, int k, bool unbiased) =>
        _cknnaSelf.GetOrAdd((layer, k, unbiased), key =>
        {
            var rows = new Cknna.Rows(Neighbours(key.Layer, key.K), key.K, key.Unbiased);
            return Cknna.Similarity(rows, rows, new Cknna.Scratch(SampleCount));
        });
}
