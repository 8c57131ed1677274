using System.Buffers.Binary;
using System.Text;
using Prh.Alignment.IO;
using static Prh.Alignment.Tests.IO.IoTestFiles;

namespace Prh.Alignment.Tests.IO;

public sealed class SafetensorsFileTests
{
    [Fact]
    public void EveryDTypeRoundTripsExactly()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("m.safetensors");
        var tensors = new (string, int[], double[], TensorDType)[]
        {
            ("a.f32", [4, 3], ExactValues(12, 1), TensorDType.Float32),
            ("b f64 \"quoted\" é", [2, 3, 5], ExactValues(30, 2).Select(v => v + 1e-12).ToArray(), TensorDType.Float64),
            ("c.f16", [33], ExactValues(33, 3), TensorDType.Float16),
            ("d.bf16", [5, 7], ExactValues(35, 4), TensorDType.BFloat16),
            ("scalar", [], [2.5], TensorDType.Float32),
            ("empty", [0, 3], [], TensorDType.BFloat16),
        };
        SafetensorsFile.Write(path, tensors);

        var read = SafetensorsFile.Read(path);
        Assert.Equal(tensors.Length, read.Count);
        for (int i = 0; i < tensors.Length; i++)
        {
            Assert.Equal(tensors[i].Item1, read[i].Name);
            Assert.Equal(tensors[i].Item2, read[i].Shape);
            Assert.Equal(tensors[i].Item4, read[i].SourceType);
            AssertBitEqual(tensors[i].Item3, read[i].Values);
        }

        var bytes = File.ReadAllBytes(path);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, headerLength % 8);
        Assert.Equal((byte)'{', bytes[8]);
    }

    [Fact]
    public void BFloat16RoundsToNearestEvenFromDouble()
    {
        double[] values =
        [
            1 + Math.Pow(2, -8),                     // tie: to even (1)
            1 + Math.Pow(2, -8) + Math.Pow(2, -40),  // just above the tie: 1 + 2^-7 (float would round to the tie first)
            1 + 3 * Math.Pow(2, -8),                 // tie: to even (1 + 2^-6)
            -(1 + Math.Pow(2, -8) + Math.Pow(2, -40)),
            0.1, 3.0e38, -1e-40, 1e-45,
        ];
        double[] expected =
        [
            1, 1 + Math.Pow(2, -7), 1 + Math.Pow(2, -6), -(1 + Math.Pow(2, -7)),
            0.10009765625, BitConverter.UInt32BitsToSingle(0x7F62u << 16), BitConverter.UInt32BitsToSingle(0x8001u << 16), 0,
        ];
        using var dir = new TempDirectory();
        string path = dir.PathOf("bf.safetensors");
        SafetensorsFile.Write(path, [("x", [values.Length], values, TensorDType.BFloat16)]);
        AssertBitEqual(expected, SafetensorsFile.Read(path)[0].Values);
    }

    [Fact]
    public void TensorsComeInDataOffsetOrderAndMetadataIsIgnored()
    {
        using var dir = new TempDirectory();
        string json = "{\"__metadata__\": {\"format\": \"pt\"}, "
            + "\"second\": {\"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [8, 16]}, "
            + "\"first\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}   ";
        string path = dir.Write("o.safetensors", Safetensors(json, Concat(F32(1, 2), F64(3))));
        var read = SafetensorsFile.Read(path);
        Assert.Equal(new[] { "first", "second" }, read.Select(t => t.Name));
        Assert.Equal(new double[] { 1, 2 }, read[0].Values);
        Assert.Equal(new double[] { 3 }, read[1].Values);
    }

    [Fact]
    public void LargeBFloat16AndFloat16TensorsUseTheVectorPath()
    {
        var values = Enumerable.Range(0, 300_003).Select(i => (double)(i % 251 - 125) / 64).ToArray();
        using var dir = new TempDirectory();
        string path = dir.PathOf("big.safetensors");
        SafetensorsFile.Write(path, [("h", [values.Length], values, TensorDType.Float16), ("b", [values.Length], values, TensorDType.BFloat16)]);
        var read = SafetensorsFile.Read(path);
        AssertBitEqual(values, read[0].Values);
        AssertBitEqual(values, read[1].Values);
    }

    [Fact]
    public void WriteRefusesBadInput()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("w.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, [("a", [1], [1.0], TensorDType.Float32), ("a", [1], [1.0], TensorDType.Float32)]));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, [("__metadata__", [1], [1.0], TensorDType.Float32)]));
        Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, [("a", [2], [1.0], TensorDType.Float32)]));
        var inf = Assert.Throws<ArgumentException>(() => SafetensorsFile.Write(path, [("t", [2], [1.0, 1e39], TensorDType.BFloat16)]));
        Assert.Contains("tensor 't'", inf.Message);
        Assert.Empty(Directory.GetFiles(dir.Root));
    }

    [Fact]
    public void HeaderIsPlainJson()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("j.safetensors");
        SafetensorsFile.Write(path, [("layers.0", [1, 2], [1.0, 2.0], TensorDType.Float32)]);
        var bytes = File.ReadAllBytes(path);
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal("{\"layers.0\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}}",
            Encoding.UTF8.GetString(bytes, 8, length).TrimEnd(' '));
    }
}
