using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Client.Commands;

/// <summary>
/// Feature files opened by a command, one sketch per file (by full path) however many requests or
/// model pairs use it, so each Gram, neighbour list and centred kernel is computed once.
/// </summary>
internal sealed class FeatureInputs
{
    private readonly Dictionary<string, ModelSketch> _sketches = new(StringComparer.Ordinal);
    private readonly double? _quantile;

    /// <param name="quantile">Clamp at this quantile and normalise (compute_score's inputs), or null to use the values as given (the metric functions').</param>
    public FeatureInputs(double? quantile) => _quantile = quantile;

    public ModelSketch Sketch(string path)
    {
        string full = Path.GetFullPath(path);
        if (_sketches.TryGetValue(full, out var sketch)) return sketch;
        // Streamed: each layer is read from the file when a sketch needs it, never held whole.
        var features = FeatureFile.Open(full);
        sketch = new ModelSketch(_quantile is { } q ? FeaturePreparation.Prepare(features, q) : features);
        _sketches[full] = sketch;
        return sketch;
    }

    /// <summary>A file that must hold one N x D matrix (the metric functions take two matrices).</summary>
    public ModelSketch Matrix(string path)
    {
        var sketch = Sketch(path);
        if (sketch.LayerCount != 1)
            throw new AlignmentException(ErrorKind.ValueError,
                $"{path}: expected one N x D matrix, found {sketch.LayerCount} layers (use 'prh score' for N x L x D features)");
        return sketch;
    }
}
