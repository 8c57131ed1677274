using Prh.Alignment.Compute;

namespace Prh.Alignment.Features;

/// <summary>
/// The reference's feature preparation (platonic-rep <c>prepare_features(feats, q=0.95, exact=True)</c>
/// followed by <c>F.normalize</c> per layer): clamp every value of the whole N x L x D tensor to
/// [-q_val, q_val], where q_val is element floor(q * numel) (0-based) of the ascending |values|,
/// then scale each sample of each layer to unit L2 norm.
/// </summary>
public static class FeaturePreparation
{
    public const double DefaultQuantile = 0.95;

    /// <summary>Smallest norm F.normalize divides by (its default eps).</summary>
    public const double NormalizeEpsilon = 1e-12;

    /// <summary>The clamp threshold: the exact order statistic, one for all layers.</summary>
    public static double ClampThreshold(ModelFeatures features, double quantile = DefaultQuantile) =>
        ClampThreshold(features.ValueCount, features.LayerCount, features.MaxLayerValues, (l, scratch) => features.Layers[l].Values(scratch), quantile);

    /// <summary>
    /// The clamp threshold of <paramref name="valueCount"/> values read in <paramref name="blocks"/> blocks
    /// (see <see cref="Selection.SelectMagnitude"/>): a model's layers, or chunks of a file's values.
    /// </summary>
    public static double ClampThreshold(long valueCount, int blocks, int maxBlockLength, Func<int, Span<double>, ReadOnlySpan<double>> read, double quantile = DefaultQuantile)
    {
        if (!(quantile >= 0 && quantile < 1))
            throw new ArgumentOutOfRangeException(nameof(quantile), $"quantile must be in [0, 1), got {quantile}");
        // int(q * numel) in IEEE double, truncated toward zero, as Python does.
        long index = (long)(quantile * valueCount);
        return Selection.SelectMagnitude(blocks, maxBlockLength, read, index);
    }

    /// <summary>
    /// Clamps with the model's threshold and L2-normalises each sample of each layer: into new arrays
    /// for in-memory layers, on every read for streamed ones (the raw values are then never held).
    /// </summary>
    public static ModelFeatures Prepare(ModelFeatures raw, double quantile = DefaultQuantile) => PrepareAt(raw, ClampThreshold(raw, quantile));

    /// <summary>
    /// <see cref="Prepare(ModelFeatures, double)"/> with the clamp threshold already known (a stored
    /// sketch records it), which saves the pass over every value that finds it.
    /// </summary>
    public static ModelFeatures PrepareAt(ModelFeatures raw, double q)
    {
        var layers = new LayerFeatures[raw.LayerCount];
        Parallel.For(0, raw.LayerCount, l =>
        {
            var layer = raw.Layers[l];
            layers[l] = layer.Transformed(values =>
            {
                for (int i = 0; i < values.Length; i++) values[i] = Math.Clamp(values[i], -q, q);
                NormalizeRows(values, layer.SampleCount, layer.Width);
            });
        });
        return new ModelFeatures(raw.Source, layers);
    }

    /// <summary>F.normalize(x, p=2, dim=-1): x / max(||x||_2, 1e-12) per row.</summary>
    public static void NormalizeRows(Span<double> data, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            Span<double> row = data.Slice(r * width, width);
            double sumSquares = 0;
            foreach (double v in row) sumSquares += v * v;
            double norm = Math.Max(Math.Sqrt(sumSquares), NormalizeEpsilon);
            for (int i = 0; i < row.Length; i++) row[i] /= norm;
        }
    }
}
