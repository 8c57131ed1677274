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

/// <summary>Model inputs of integer and boolean types: written, read back exactly, refused where a value does not fit.</summary>
public sealed class IntegerTensorTests
{
    [Theory]
    [InlineData(TensorDType.Int64, ".npy")]
    [InlineData(TensorDType.Int32, ".npy")]
    [InlineData(TensorDType.UInt8, ".npy")]
    [InlineData(TensorDType.Bool, ".npy")]
    [InlineData(TensorDType.Int64, ".safetensors")]
    [InlineData(TensorDType.Int32, ".safetensors")]
    [InlineData(TensorDType.UInt8, ".safetensors")]
    [InlineData(TensorDType.Bool, ".safetensors")]
    public void Integer_tensors_round_trip_exactly(TensorDType dtype, string extension)
    {
        double[] values = dtype switch
        {
            TensorDType.Int64 => [0, 101, 30522, -7, 1L << 53, -(1L << 53)],
            TensorDType.Int32 => [0, 101, int.MaxValue, int.MinValue, -7, 2],
            TensorDType.UInt8 => [0, 1, 255, 128, 7, 3],
            _ => [0, 1, 1, 0, 1, 0],
        };
        string path = Path.Combine(Directory.CreateTempSubdirectory("prh-int-").FullName, "ids" + extension);
        if (extension == ".npy") NpyFile.Write(path, [2, 3], values, dtype);
        else SafetensorsFile.Write(path, [("ids", [2, 3], values, dtype)]);
        var tensor = extension == ".npy" ? NpyFile.Read(path) : Assert.Single(SafetensorsFile.Read(path));
        Assert.Equal(dtype, tensor.SourceType);
        Assert.Equal([2, 3], tensor.Shape);
        Assert.Equal(values, tensor.Values);
    }

    [Theory]
    [InlineData(TensorDType.Int32, 2.5, "2.5 does not fit int32")]
    [InlineData(TensorDType.UInt8, 256, "256 does not fit uint8")]
    [InlineData(TensorDType.Bool, 2, "2 does not fit bool")]
    [InlineData(TensorDType.Int64, 9007199254740994, "does not fit int64")]
    public void A_value_its_type_cannot_hold_is_refused_on_write_with_its_position(TensorDType dtype, double value, string phrase)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("prh-int-").FullName, "bad.npy");
        var e = Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [3], [0, 1, value], dtype));
        Assert.Contains("value at flat index 2", e.Message);
        Assert.Contains(phrase, e.Message);
        Assert.False(File.Exists(path));
    }
}
