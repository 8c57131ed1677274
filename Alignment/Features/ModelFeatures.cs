namespace Prh.Alignment.Features;

/// <summary>
/// A model's features for one dataset: L layers over the same N samples. Layers may differ in width
/// (ConvNets, mixed architectures), which is why this is a list and not an N x L x D block.
/// </summary>
public sealed class ModelFeatures
{
    public ModelFeatures(string source, IReadOnlyList<LayerFeatures> layers)
    {
        if (layers.Count == 0) throw new ArgumentException($"{source}: a model needs at least one layer", nameof(layers));
        int n = layers[0].SampleCount;
        for (int l = 1; l < layers.Count; l++)
            if (layers[l].SampleCount != n)
                throw new ArgumentException($"{source}: layer {l} has {layers[l].SampleCount} samples, layer 0 has {n}", nameof(layers));
        Source = source;
        Layers = layers;
    }

    /// <summary>Where the features came from (a file path or an id), used in error messages.</summary>
    public string Source { get; }
    public IReadOnlyList<LayerFeatures> Layers { get; }
    public int SampleCount => Layers[0].SampleCount;
    public int LayerCount => Layers.Count;
    public long ValueCount => Layers.Sum(l => (long)l.ValueCount);

    /// <summary>The widest layer's value count: the scratch a streamed read of any layer needs.</summary>
    public int MaxLayerValues => Layers.Max(l => l.ValueCount);
}
