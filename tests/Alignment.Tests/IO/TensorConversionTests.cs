using Prh.Alignment.IO;

namespace Prh.Alignment.Tests.IO;

/// <summary>The vectorised conversions (TensorPrimitives) against the plain element-by-element ones, on every bit pattern that matters.</summary>
public sealed class TensorConversionTests
{
    [Theory]
    [InlineData(TensorDType.Float16)]
    [InlineData(TensorDType.BFloat16)]
    [InlineData(TensorDType.Float32)]
    public void Vectorised_and_plain_conversions_agree_bit_for_bit(TensorDType dtype)
    {
        int item = TensorCodec.ItemSize(dtype);
        var random = new Random(17);
        // Every 16-bit pattern (zeros, subnormals, infinities, NaNs included) for the half types; random and special floats otherwise.
        byte[] bytes = item == 2
            ? Enumerable.Range(0, 1 << 16).SelectMany(b => new[] { (byte)b, (byte)(b >> 8) }).ToArray()
            : [.. new[] { 0f, -0f, float.Epsilon, -float.Epsilon, 1e-40f, float.MaxValue, float.MinValue, 1f, -2.5f }
                .Concat(Enumerable.Range(0, 4093).Select(_ => BitConverter.Int32BitsToSingle(random.Next(int.MinValue, int.MaxValue))))
                .Where(float.IsFinite).SelectMany(BitConverter.GetBytes)];
        int n = bytes.Length / item;
        var vectorised = new double[n];
        var plain = new double[n];
        bool allFinite = TensorCodec.Convert(dtype, bytes, vectorised);
        Assert.Equal(TensorCodec.ConvertScalar(dtype, bytes, plain), allFinite);
        for (int i = 0; i < n; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(vectorised[i]) == BitConverter.DoubleToInt64Bits(plain[i]) || double.IsNaN(vectorised[i]) && double.IsNaN(plain[i]),
                $"{dtype} element {i}: {vectorised[i]:R} vectorised, {plain[i]:R} plain");
        Assert.Equal(item == 2, !allFinite); // the half types' patterns include infinities and NaNs; the floats chosen here do not
    }
}
