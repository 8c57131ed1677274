namespace Prh.Alignment.Features;

/// <summary>
/// One layer's activations: <see cref="SampleCount"/> rows of <see cref="Width"/> values, row-major,
/// in double whatever the file's dtype (float64 inputs keep their precision; float32, float16 and
/// bfloat16 convert exactly). A layer is either held in memory or streamed: read from its source
/// (a feature file) each time it is needed, so a model's sketches can be built while only the layers
/// being worked on occupy memory.
/// </summary>
public sealed class LayerFeatures
{
    private readonly double[]? _data;
    private readonly Action<Span<double>>? _read;

    public LayerFeatures(int sampleCount, int width, double[] data)
    {
        Check(sampleCount, width);
        if (data.Length != (long)sampleCount * width)
            throw new ArgumentException($"layer data has {data.Length} values, expected {sampleCount} x {width}", nameof(data));
        SampleCount = sampleCount;
        Width = width;
        _data = data;
    }

    /// <summary>A streamed layer: <paramref name="read"/> fills a span of N x D values each time it is called.</summary>
    public LayerFeatures(int sampleCount, int width, Action<Span<double>> read)
    {
        Check(sampleCount, width);
        SampleCount = sampleCount;
        Width = width;
        _read = read;
    }

    public int SampleCount { get; }
    public int Width { get; }
    public int ValueCount => SampleCount * Width;
    public bool IsInMemory => _data is not null;

    /// <summary>The values of an in-memory layer.</summary>
    public double[] Data => _data ?? throw new InvalidOperationException("a streamed layer has no array; use Values(scratch) or ToArray()");

    /// <summary>The values: the layer's own array, or <paramref name="scratch"/> filled from its source.</summary>
    public ReadOnlySpan<double> Values(Span<double> scratch)
    {
        if (_data is not null) return _data;
        var target = scratch[..ValueCount];
        _read!(target);
        return target;
    }

    /// <summary>A new array holding the values.</summary>
    public double[] ToArray()
    {
        if (_data is not null) return (double[])_data.Clone();
        var values = GC.AllocateUninitializedArray<double>(ValueCount);
        _read!(values);
        return values;
    }

    /// <summary>
    /// The layer with <paramref name="transform"/> applied to its values: at once into a new array for
    /// an in-memory layer, on every read for a streamed one.
    /// </summary>
    public LayerFeatures Transformed(Action<Span<double>> transform)
    {
        if (_data is not null)
        {
            var values = (double[])_data.Clone();
            transform(values);
            return new LayerFeatures(SampleCount, Width, values);
        }
        var read = _read!;
        return new LayerFeatures(SampleCount, Width, span => { read(span); transform(span); });
    }

    private static void Check(int sampleCount, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if ((long)sampleCount * width > Array.MaxLength)
            throw new ArgumentException($"a layer of {sampleCount} x {width} values exceeds one array");
    }
}
