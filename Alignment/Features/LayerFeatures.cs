namespace Prh.Alignment.Features;

/// <summary>
/// One layer's activations: <see cref="SampleCount"/> rows of <see cref="Width"/> values, row-major.
/// Values are held in double whatever the file's dtype, so float64 inputs keep their precision and
/// float32/float16/bfloat16 inputs convert exactly.
/// </summary>
public sealed class LayerFeatures
{
    public LayerFeatures(int sampleCount, int width, double[] data)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (data.Length != (long)sampleCount * width)
            throw new ArgumentException($"layer data has {data.Length} values, expected {sampleCount} x {width}", nameof(data));
        SampleCount = sampleCount;
        Width = width;
        Data = data;
    }

    public int SampleCount { get; }
    public int Width { get; }
    public double[] Data { get; }

    public ReadOnlySpan<double> Row(int i) => Data.AsSpan(i * Width, Width);
}
