using Prh.Alignment.IO;
using static Prh.Alignment.Tests.IO.IoTestFiles;

namespace Prh.Alignment.Tests.IO;

public sealed class NpyFileTests
{
    public static IEnumerable<object[]> RoundTripCases()
    {
        foreach (var dtype in new[] { TensorDType.Float16, TensorDType.Float32, TensorDType.Float64 })
            foreach (var shape in new[] { "", "7", "5,3", "4,3,6", "0,3", "33,17" })
                yield return [dtype, shape];
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void RoundTripsExactly(TensorDType dtype, string shapeText)
    {
        int[] shape = shapeText.Length == 0 ? [] : shapeText.Split(',').Select(int.Parse).ToArray();
        var values = ExactValues(shape.Aggregate(1, (a, b) => a * b));
        using var dir = new TempDirectory();
        string path = dir.PathOf("x.npy");
        NpyFile.Write(path, shape, values, dtype);

        var t = NpyFile.Read(path);
        Assert.Equal("x", t.Name);
        Assert.Equal(shape, t.Shape);
        Assert.Equal(dtype, t.SourceType);
        AssertBitEqual(values, t.Values);
        Assert.Single(Directory.GetFiles(dir.Root)); // no temporary file left behind
    }

    [Fact]
    public void ReferenceFixtureReadsAndRewritesByteForByte()
    {
        string fixture = Fixture("pipeline/lang_a.npy");
        var t = NpyFile.Read(fixture);
        Assert.Equal(new[] { 128, 7, 64 }, t.Shape);
        Assert.Equal(TensorDType.Float32, t.SourceType);
        Assert.Contains(t.Values, v => v != 0);

        using var dir = new TempDirectory();
        string copy = dir.PathOf("lang_a.npy");
        NpyFile.Write(copy, t.Shape, t.Values, TensorDType.Float32);
        Assert.Equal(File.ReadAllBytes(fixture), File.ReadAllBytes(copy)); // same header layout as np.save, same bits
        AssertBitEqual(t.Values, NpyFile.Read(copy).Values);
    }

    [Fact]
    public void Float32RoundsToNearest()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("r.npy");
        double[] values = [0.1, 1.0 / 3, -2.718281828459045, 1e-40, 3.4028234663852886e38];
        NpyFile.Write(path, [values.Length], values);
        AssertBitEqual(values.Select(v => (double)(float)v).ToArray(), NpyFile.Read(path).Values);
    }

    [Fact]
    public void Float16SpecialValuesAndRoundingAreExact()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("h.npy");
        double[] values =
        [
            65504, -65504, Math.Pow(2, -24), -Math.Pow(2, -24), Math.Pow(2, -14), -0.0, 0.0,
            1 + Math.Pow(2, -11),                     // tie: rounds to even (1)
            1 + Math.Pow(2, -11) + Math.Pow(2, -40),  // just above the tie: 1 + 2^-10 (no double rounding via float)
            1 + 3 * Math.Pow(2, -11),                 // tie: rounds to even (1 + 2^-9)
            Math.Pow(2, -25) + Math.Pow(2, -60),      // above half the smallest subnormal: 2^-24
            1.0 / 3,
        ];
        double[] expected =
        [
            65504, -65504, Math.Pow(2, -24), -Math.Pow(2, -24), Math.Pow(2, -14), -0.0, 0.0,
            1, 1 + Math.Pow(2, -10), 1 + Math.Pow(2, -9), Math.Pow(2, -24), 0.333251953125,
        ];
        NpyFile.Write(path, [values.Length], values, TensorDType.Float16);
        AssertBitEqual(expected, NpyFile.Read(path).Values);
    }

    [Fact]
    public void EveryFiniteFloat16BitPatternConvertsExactly()
    {
        var bits = Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & 0x7C00) != 0x7C00).ToArray();
        using var dir = new TempDirectory();
        string path = dir.Write("all.npy", Npy(Dict("<f2", $"({bits.Length},)"), U16(bits)));
        var t = NpyFile.Read(path);
        AssertBitEqual(bits.Select(b => (double)BitConverter.UInt16BitsToHalf(b)).ToArray(), t.Values);
    }

    [Theory]
    [InlineData(1, 0, "<f4")]
    [InlineData(2, 0, "<f4")]
    [InlineData(3, 0, "<f4")]
    [InlineData(1, 0, "f4")]
    [InlineData(1, 0, "|f4")]
    [InlineData(1, 0, "=f4")]
    public void ReadsAllVersionsAndDescrSpellings(byte major, byte minor, string descr)
    {
        using var dir = new TempDirectory();
        string path = dir.Write("v.npy", Npy(Dict(descr, "(2, 3)"), F32(1, 2, 3, 4, 5, 6), major, minor));
        var t = NpyFile.Read(path);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6 }, t.Values);
    }

    [Fact]
    public void ReadsPython2HeadersAndDoubleQuotes()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("p2.npy", Npy("{\"descr\": \"<f8\", \"fortran_order\": False, \"shape\": (2L, 1L)}", F64(1.5, -2.5)));
        var t = NpyFile.Read(path);
        Assert.Equal(new[] { 2, 1 }, t.Shape);
        Assert.Equal(TensorDType.Float64, t.SourceType);
        Assert.Equal(new[] { 1.5, -2.5 }, t.Values);
    }

    [Fact]
    public void LargeArrayAcrossChunksRoundTrips()
    {
        var values = Enumerable.Range(0, 700_001).Select(i => (double)(float)Math.Sin(i)).ToArray();
        using var dir = new TempDirectory();
        foreach (var dtype in new[] { TensorDType.Float32, TensorDType.Float64 })
        {
            string path = dir.PathOf($"big-{dtype}.npy");
            NpyFile.Write(path, [values.Length], values, dtype);
            AssertBitEqual(values, NpyFile.Read(path).Values);
        }
    }

    [Fact]
    public void WriteRefusesWhatReadersWouldRefuse()
    {
        using var dir = new TempDirectory();
        string path = dir.PathOf("w.npy");
        Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [2], [1.0, 2.0], TensorDType.BFloat16));
        Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [3], [1.0, 2.0]));
        Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [-1], []));
        var nan = Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [3], [1.0, double.NaN, 2.0], TensorDType.Float64));
        Assert.Contains("flat index 1", nan.Message);
        var range = Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [2], [1.0, 70000.0], TensorDType.Float16));
        Assert.Contains("out of the float16 range", range.Message);
        var range32 = Assert.Throws<ArgumentException>(() => NpyFile.Write(path, [20], Enumerable.Repeat(1e39, 20).ToArray(), TensorDType.Float32));
        Assert.Contains("flat index 0", range32.Message);
        Assert.Empty(Directory.GetFiles(dir.Root)); // a failed write leaves nothing behind
    }

    [Fact]
    public void WriteReplacesAnExistingFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("o.npy", new byte[1000]);
        NpyFile.Write(path, [2], [1.0, 2.0]);
        Assert.Equal(new[] { 1.0, 2.0 }, NpyFile.Read(path).Values);
    }
}
