using Prh.Alignment.Sketches;

namespace Prh.Alignment.AllPairs;

/// <summary>
/// Models scored together on one side of a tile: their sketches, with every layer of every model
/// numbered in one sequence (the block's layers) and the centred kernels of all of them in one
/// contiguous stack, so a tile's kernel products are one large matrix product instead of one small
/// product per model pair (ALGORITHMS.md: a pair of single models is memory-bound, blocks are not).
/// </summary>
public sealed class SketchBlock
{
    private readonly Dictionary<KernelFunction, CentredKernels> _kernels;
    private readonly int[] _modelOfLayer;

    /// <param name="kernels">The block's kernels already stacked (a silo decodes stored sketches straight
    /// into one buffer); any other kernel function is stacked from the models' own on first use.</param>
    public SketchBlock(IReadOnlyList<ModelSketch> models, IReadOnlyDictionary<KernelFunction, CentredKernels>? kernels = null)
    {
        if (models.Count == 0) throw new ArgumentException("a block needs at least one model");
        Models = models;
        SampleCount = models[0].SampleCount;
        LayerStart = new int[models.Count + 1];
        for (int m = 0; m < models.Count; m++) LayerStart[m + 1] = LayerStart[m] + models[m].LayerCount;
        _modelOfLayer = new int[LayerCount];
        for (int m = 0; m < models.Count; m++) Array.Fill(_modelOfLayer, m, LayerStart[m], models[m].LayerCount);
        _kernels = kernels?.ToDictionary() ?? [];
        foreach (var (kernel, stack) in _kernels)
            if (stack.LayerCount != LayerCount || stack.SampleCount != SampleCount || stack.Kernel != kernel)
                throw new ArgumentException($"the block's {kernel} kernels do not fit its {LayerCount} layers of {SampleCount} samples");
    }

    public IReadOnlyList<ModelSketch> Models { get; }
    public int SampleCount { get; }

    /// <summary>Model m's layers are the block's layers [LayerStart[m], LayerStart[m + 1]).</summary>
    public int[] LayerStart { get; }

    public int LayerCount => LayerStart[^1];

    public ModelSketch ModelOf(int layer, out int modelLayer)
    {
        int m = _modelOfLayer[layer];
        modelLayer = layer - LayerStart[m];
        return Models[m];
    }

    /// <summary>Builds what <paramref name="request"/> asks for in every model lacking it.</summary>
    public void Ensure(SketchRequest request)
    {
        foreach (var model in Models) model.Ensure(request with { Kernels = request.Kernels.Where(k => !_kernels.ContainsKey(k)).ToList() });
    }

    /// <summary>Every block layer's centred kernels for <paramref name="kernel"/>, in one stack.</summary>
    public CentredKernels Kernels(KernelFunction kernel)
    {
        lock (_kernels)
        {
            if (!_kernels.TryGetValue(kernel, out var stack))
                _kernels[kernel] = stack = CentredKernels.Concatenate(Models.Select(m => m.Kernels(kernel)).ToList());
            return stack;
        }
    }

    public NeighbourLists Neighbours(int layer, int topk) => ModelOf(layer, out int l).Neighbours(l, topk);

    public SvccaBasis Svcca(int layer, int dimension) => ModelOf(layer, out int l).Svcca(l, dimension);

    public double CknnaSelf(int layer, int topk, bool unbiased) => ModelOf(layer, out int l).CknnaSelf(l, topk, unbiased);

    /// <summary>The block's layers of models [first, end): a rectangle side.</summary>
    public (int Start, int End) Layers(int firstModel, int endModel) => (LayerStart[firstModel], LayerStart[endModel]);
}
