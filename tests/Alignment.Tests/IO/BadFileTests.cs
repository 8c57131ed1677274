using System.Text;
using Prh.Alignment.IO;
using static Prh.Alignment.Tests.IO.IoTestFiles;

namespace Prh.Alignment.Tests.IO;

/// <summary>
/// Every kind of broken or unsupported file gives a <see cref="TensorFileException"/> whose message
/// starts with the path and names the problem (and the tensor, where there is one).
/// </summary>
public sealed class BadFileTests
{
    /// <summary>
    /// Where the failure shows: the format reader itself (and so also FeatureFile.Load), only FeatureFile.Load, or the
    /// reader of a model input (integers: FeatureFile.Load refuses them as features before reading a value).
    /// </summary>
    public enum Stage { Reader, Features, Input }

    public sealed record BadCase(string FileName, Func<byte[]> Build, Stage Stage, params string[] Phrases);

    private static string St(string name, string dtype, string shape, long begin, long end) =>
        $"\"{name}\": {{\"dtype\": \"{dtype}\", \"shape\": {shape}, \"data_offsets\": [{begin}, {end}]}}";

    private static readonly Dictionary<string, BadCase> s_cases = new()
    {
        // ---- .npy ----
        ["npy too short"] = new("a.npy", () => [0x93, (byte)'N', (byte)'U'], Stage.Reader, "too short"),
        ["npy wrong magic"] = new("a.npy", () => Npy(Dict("<f4", "(2,)"), F32(1, 2), magic: "\x93NUMPX"u8.ToArray()), Stage.Reader, "wrong magic"),
        ["npy zip file"] = new("a.npy", () => Encoding.ASCII.GetBytes("PK\x03\x04 this is an npz archive"), Stage.Reader, "wrong magic"),
        ["npy version 4.0"] = new("a.npy", () => Npy(Dict("<f4", "(2,)"), F32(1, 2), major: 4), Stage.Reader, "unsupported .npy format version 4.0"),
        ["npy version 1.1"] = new("a.npy", () => Npy(Dict("<f4", "(2,)"), F32(1, 2), minor: 1), Stage.Reader, "unsupported .npy format version 1.1"),
        ["npy header length beyond file"] = new("a.npy", () => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0x60, 0xEA, (byte)'{', (byte)'}'],
            Stage.Reader, "header length 60000"),
        ["npy fortran order"] = new("a.npy", () => Npy(Dict("<f4", "(2, 2)", fortran: true), F32(1, 2, 3, 4)), Stage.Reader,
            "Fortran-order arrays are not supported (fortran_order: True)"),
        ["npy big endian"] = new("a.npy", () => Npy(Dict(">f4", "(2,)"), F32(1, 2)), Stage.Reader, "big-endian", "'>f4'"),
        ["npy int32 features"] = new("a.npy", () => Npy(Dict("<i4", "(2, 2)"), new byte[16]), Stage.Features, "array holds int32 values; features must be floating point"),
        ["npy bool features"] = new("a.npy", () => Npy(Dict("|b1", "(2, 2)"), new byte[4]), Stage.Features, "array holds bool values; features must be floating point"),
        ["npy bool of 2"] = new("a.npy", () => Npy(Dict("|b1", "(2,)"), [0, 2]), Stage.Input, "2 at [1] (flat index 1) is not a value its type holds here"),
        ["npy int64 beyond 2^53"] = new("a.npy", () => Npy(Dict("<i8", "(2,)"), [.. BitConverter.GetBytes(3L), .. BitConverter.GetBytes((1L << 53) + 1)]), Stage.Input,
            "at [1] (flat index 1) is not a value its type holds here", "int64: at most 2^53"),
        ["npy int16"] = new("a.npy", () => Npy(Dict("<i2", "(2,)"), new byte[4]), Stage.Reader, "unsupported dtype '<i2'"),
        ["npy complex"] = new("a.npy", () => Npy(Dict("<c8", "(2,)"), new byte[16]), Stage.Reader, "unsupported dtype '<c8'", "complex"),
        ["npy object"] = new("a.npy", () => Npy(Dict("|O", "(2,)"), new byte[16]), Stage.Reader, "unsupported dtype '|O'", "object arrays"),
        ["npy structured"] = new("a.npy", () => Npy("{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }", new byte[16]), Stage.Reader, "structured"),
        ["npy truncated data"] = new("a.npy", () => Npy(Dict("<f4", "(4, 4)"), new byte[60]), Stage.Reader,
            "truncated: header declares 16 values (64 bytes) but only 60 bytes follow"),
        ["npy trailing data"] = new("a.npy", () => Npy(Dict("<f4", "(4,)"), new byte[20]), Stage.Reader, "4 trailing bytes"),
        ["npy shape lies (huge)"] = new("a.npy", () => Npy(Dict("<f4", "(100000, 100000, 100000)"), new byte[16]), Stage.Reader,
            "truncated: header declares 1000000000000000 values (4000000000000000 bytes) but only 16 bytes follow"),
        ["npy negative dimension"] = new("a.npy", () => Npy(Dict("<f4", "(-1, 4)"), new byte[16]), Stage.Reader, "negative dimension -1"),
        ["npy overflowing dimension"] = new("a.npy", () => Npy(Dict("<f4", "(99999999999, 2)"), new byte[16]), Stage.Reader, "dimension 99999999999", "too large"),
        ["npy float dimension"] = new("a.npy", () => Npy(Dict("<f4", "(2.5, 2)"), new byte[16]), Stage.Reader, "cannot parse header dict"),
        ["npy unparseable header"] = new("a.npy", () => Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", F32(1, 2)), Stage.Reader, "cannot parse header dict"),
        ["npy garbage header"] = new("a.npy", () => Npy("hello world", F32(1, 2)), Stage.Reader, "cannot parse header dict"),
        ["npy missing shape"] = new("a.npy", () => Npy("{'descr': '<f4', 'fortran_order': False}", F32(1, 2)), Stage.Reader, "missing key 'shape'"),
        ["npy NaN"] = new("a.npy", () => Npy(Dict("<f4", "(3, 4)"), F32(Floats(12, i => i == 6 ? float.NaN : i))), Stage.Reader, "NaN at [1, 2] (flat index 6)"),
        ["npy NaN in tail"] = new("a.npy", () => Npy(Dict("<f4", "(3, 7)"), F32(Floats(21, i => i == 20 ? float.NaN : i))), Stage.Reader, "NaN at [2, 6] (flat index 20)"),
        ["npy +Inf float64"] = new("a.npy", () => Npy(Dict("<f8", "(2, 3)"), F64(0, 1, 2, 3, double.PositiveInfinity, 5)), Stage.Reader, "+Inf at [1, 1] (flat index 4)"),
        ["npy -Inf float32 3-d"] = new("a.npy", () => Npy(Dict("<f4", "(4, 2, 8)"), F32(Floats(64, i => i == 55 ? float.NegativeInfinity : 1))), Stage.Reader,
            "-Inf at [3, 0, 7] (flat index 55)"),
        ["npy -Inf float16"] = new("a.npy", () => Npy(Dict("<f2", "(40,)"), U16(Enumerable.Range(0, 40).Select(i => (ushort)(i == 17 ? 0xFC00 : 0x3C00)).ToArray())),
            Stage.Reader, "-Inf at [17]"),
        ["npy NaN float16 tail"] = new("a.npy", () => Npy(Dict("<f2", "(5,)"), U16(0x3C00, 0, 0, 0x7E00, 0)), Stage.Reader, "NaN at [3]"),

        // ---- .safetensors ----
        ["st too short"] = new("a.safetensors", () => [1, 2, 3], Stage.Reader, "too short"),
        ["st header length beyond file"] = new("a.safetensors", () => Safetensors("{}", [], headerLength: 1000), Stage.Reader, "header length 1000 exceeds"),
        ["st absurd header length"] = new("a.safetensors", () => Safetensors("{}", [], headerLength: 1UL << 40), Stage.Reader, "header length 1099511627776 is absurd"),
        ["st invalid JSON"] = new("a.safetensors", () => Safetensors("{\"w\": {\"dtype\": \"F32\",", F32(1, 2)), Stage.Reader, "invalid JSON header"),
        ["st JSON array root"] = new("a.safetensors", () => Safetensors("[1, 2]", []), Stage.Reader, "expected a JSON object"),
        ["st I32 features"] = new("a.safetensors", () => Safetensors("{" + St("w", "I32", "[2, 1]", 0, 8) + "}", new byte[8]), Stage.Features, "tensor 'w' holds int32 values",
            "features must be floating point"),
        ["st unsupported dtype I16"] = new("a.safetensors", () => Safetensors("{" + St("w", "I16", "[2]", 0, 4) + "}", new byte[4]), Stage.Reader, "tensor 'w'",
            "unsupported dtype 'I16'"),
        ["st unsupported dtype F8_E4M3"] = new("a.safetensors", () => Safetensors("{" + St("q", "F8_E4M3", "[2]", 0, 2) + "}", new byte[2]), Stage.Reader, "tensor 'q'",
            "unsupported dtype 'F8_E4M3'"),
        ["st BOOL features"] = new("a.safetensors", () => Safetensors("{" + St("mask", "BOOL", "[2, 1]", 0, 2) + "}", new byte[2]), Stage.Features, "tensor 'mask' holds bool values"),
        ["st missing data_offsets"] = new("a.safetensors", () => Safetensors("{\"w\": {\"dtype\": \"F32\", \"shape\": [2]}}", F32(1, 2)), Stage.Reader, "tensor 'w'",
            "missing 'data_offsets'"),
        ["st missing dtype"] = new("a.safetensors", () => Safetensors("{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", F32(1, 2)), Stage.Reader, "tensor 'w'",
            "missing 'dtype'"),
        ["st negative offset"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[2]", -8, 0) + "}", F32(1, 2)), Stage.Reader, "tensor 'w'", "non-negative integers"),
        ["st negative dimension"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[-2]", 0, 8) + "}", F32(1, 2)), Stage.Reader, "tensor 'w'",
            "non-negative integers"),
        ["st end before begin"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[2]", 8, 0) + "}", F32(1, 2)), Stage.Reader, "tensor 'w'", "end before they begin"),
        ["st offsets out of range"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[4]", 0, 16) + "}", F32(1, 2)), Stage.Reader, "tensor 'w'", "out of range"),
        ["st truncated data"] = new("a.safetensors", () => Safetensors("{" + St("a", "F32", "[2]", 0, 8) + ", " + St("b", "F32", "[4]", 8, 24) + "}", F32(1, 2, 3, 4,
            5)), Stage.Reader, "tensor 'b'", "truncated"),
        ["st overlapping offsets"] = new("a.safetensors", () => Safetensors("{" + St("a", "F32", "[2]", 0, 8) + ", " + St("b", "F32", "[2]", 4, 12) + "}", F32(1, 2, 3)),
            Stage.Reader, "tensor 'b'", "overlap tensor 'a'"),
        ["st gap between tensors"] = new("a.safetensors", () => Safetensors("{" + St("a", "F32", "[2]", 0, 8) + ", " + St("b", "F32", "[2]", 12, 20) + "}", F32(1, 2, 3,
            4, 5)), Stage.Reader, "tensor 'b'", "gap of 4 bytes"),
        ["st trailing bytes"] = new("a.safetensors", () => Safetensors("{" + St("a", "F32", "[2]", 0, 8) + "}", F32(1, 2, 3)), Stage.Reader, "4 trailing bytes"),
        ["st size mismatch"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[3]", 0, 8) + "}", F32(1, 2)), Stage.Reader, "tensor 'w'",
            "header says shape [3] of F32 = 12 bytes, offsets give 8 bytes"),
        ["st NaN in named tensor"] = new("a.safetensors", () => Safetensors("{" + St("layers.0", "F32", "[2, 3]", 0, 24) + ", " + St("layers.1", "BF16", "[2, 3]", 24, 36) + "}",
            Concat(F32(1, 2, 3, 4, 5, 6), U16(0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x3F80, 0x7FC0))), Stage.Reader, "tensor 'layers.1'", "NaN at [1, 2] (flat index 5)"),
        ["st +Inf bf16 vector path"] = new("a.safetensors", () => Safetensors("{" + St("emb", "BF16", "[40]", 0, 80) + "}",
            U16(Enumerable.Range(0, 40).Select(i => (ushort)(i == 20 ? 0x7F80 : 0x3F80)).ToArray())), Stage.Reader, "tensor 'emb'", "+Inf at [20]"),
        ["st duplicate names"] = new("a.safetensors", () => Safetensors("{" + St("w", "F32", "[1]", 0, 4) + ", " + St("w", "F32", "[1]", 4, 8) + "}", F32(1, 2)),
            Stage.Reader, "duplicate tensor name 'w'"),
        ["st duplicate field"] = new("a.safetensors", () => Safetensors("{\"w\": {\"dtype\": \"F32\", \"dtype\": \"F64\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
            F32(1)), Stage.Reader, "tensor 'w'", "duplicate field 'dtype'"),

        // ---- feature layout ----
        ["layers gap"] = new("a.safetensors", () => Safetensors("{" + St("layers.0", "F32", "[2, 2]", 0, 16) + ", " + St("layers.2", "F32", "[2, 2]", 16, 32) + "}",
            F32(Floats(8))), Stage.Features, "'layers.1' is missing"),
        ["layers mixed N"] = new("a.safetensors", () => Safetensors("{" + St("layers.0", "F32", "[2, 2]", 0, 16) + ", " + St("layers.1", "F32", "[3, 2]", 16, 40) + "}",
            F32(Floats(10))), Stage.Features, "tensor 'layers.1' has 3 samples", "'layers.0' has 2"),
        ["layers rank 3"] = new("a.safetensors", () => Safetensors("{" + St("layers.0", "F32", "[2, 2]", 0, 16) + ", " + St("layers.1", "F32", "[2, 1, 2]", 16,
            32) + "}", F32(Floats(8))), Stage.Features, "tensor 'layers.1' has rank 3", "must be N x D"),
        ["layers with other names"] = new("a.safetensors", () => Safetensors("{" + St("layers.0", "F32", "[2, 2]", 0, 16) + ", " + St("extra", "F32", "[2, 2]", 16,
            32) + "}", F32(Floats(8))), Stage.Features, "tensor 'extra' does not follow the layers.<i> naming"),
        ["several unnamed tensors"] = new("a.safetensors", () => Safetensors("{" + St("a", "F32", "[2, 2]", 0, 16) + ", " + St("b", "F32", "[2, 2]", 16, 32) + "}",
            F32(Floats(8))), Stage.Features, "layers.0 ... layers.{L-1}"),
        ["no tensors"] = new("a.safetensors", () => Safetensors("{\"__metadata__\": {\"format\": \"pt\"}}", []), Stage.Features, "holds no tensors"),
        ["rank-1 safetensors tensor"] = new("a.safetensors", () => Safetensors("{" + St("emb", "F32", "[4]", 0, 16) + "}", F32(1, 2, 3, 4)), Stage.Features,
            "tensor 'emb' has rank 1"),
        ["rank-1 npy"] = new("a.npy", () => Npy(Dict("<f4", "(4,)"), F32(1, 2, 3, 4)), Stage.Features, "array has rank 1 (shape [4])"),
        ["rank-0 npy"] = new("a.npy", () => Npy(Dict("<f4", "()"), F32(1)), Stage.Features, "array has rank 0"),
        ["rank-4 npy"] = new("a.npy", () => Npy(Dict("<f4", "(1, 2, 2, 2)"), F32(Floats(8))), Stage.Features, "array has rank 4"),
        ["zero-size npy"] = new("a.npy", () => Npy(Dict("<f4", "(0, 4)"), []), Stage.Features, "zero-size dimension"),
        ["unknown extension"] = new("a.pt", () => [1, 2, 3], Stage.Features, "unsupported feature file extension '.pt'; expected .npy or .safetensors"),
        ["no extension"] = new("features", () => [1, 2, 3], Stage.Features, "unsupported feature file extension '(none)'"),
        ["missing file"] = new("", () => [], Stage.Reader, "cannot open"),
    };

    public static IEnumerable<object[]> Cases() => s_cases.Keys.Select(k => new object[] { k });

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadFileIsRefusedWithPathAndReason(string name)
    {
        var c = s_cases[name];
        using var dir = new TempDirectory();
        string path = c.FileName.Length == 0 ? dir.PathOf("does-not-exist.npy") : dir.Write(c.FileName, c.Build());

        if (c.Stage is Stage.Reader or Stage.Input)
        {
            var direct = Assert.Throws<TensorFileException>(() =>
            {
                if (path.EndsWith(".npy", StringComparison.Ordinal)) NpyFile.Read(path);
                else SafetensorsFile.Read(path);
            });
            AssertMessage(direct, path, c.Phrases);
            if (c.Stage == Stage.Input) return;
        }
        var viaFeatures = Assert.Throws<TensorFileException>(() => FeatureFile.Load(path));
        AssertMessage(viaFeatures, path, c.Phrases);
    }

    private static void AssertMessage(TensorFileException e, string path, string[] phrases)
    {
        Assert.Equal(path, e.Path);
        Assert.StartsWith(path + ": ", e.Message);
        foreach (string phrase in phrases) Assert.Contains(phrase, e.Message);
    }

    [Fact]
    public void NaNInALaterChunkIsLocated()
    {
        using var dir = new TempDirectory();
        const int rows = 1000, cols = 700; // 2.8 MB of float32: several read chunks
        var values = Floats(rows * cols);
        values[rows * cols - 5] = float.NaN;
        string path = dir.Write("big.npy", Npy(Dict("<f4", $"({rows}, {cols})"), F32(values)));
        var e = Assert.Throws<TensorFileException>(() => NpyFile.Read(path));
        Assert.Contains($"NaN at [999, 695] (flat index {rows * cols - 5})", e.Message);
    }

    [Fact]
    public void HugeDeclaredShapeFailsWithoutAllocating()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("huge.npy", Npy(Dict("<f8", "(2147483647, 2147483647, 2147483647, 2147483647)"), new byte[64]));
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<TensorFileException>(() => NpyFile.Read(path));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("truncated", e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes");
    }

    private const string Structural = "{}[](),:'\"0123456789-LTF. ";

    /// <summary>
    /// Random mutations of a valid file (1,000 per format): each is read or refused with a
    /// <see cref="TensorFileException"/> naming the file, within a second, allocating no more than the
    /// file could hold decoded (float16 widens 4x to float64) plus a fixed 256 KiB of parser overhead.
    /// </summary>
    [Theory]
    [InlineData(".npy")]
    [InlineData(".safetensors")]
    public void RandomCorruptionOnlyEverGivesTensorFileException(string extension)
    {
        using var dir = new TempDirectory();
        string validPath = dir.PathOf("valid" + extension);
        var model = new Prh.Alignment.Features.ModelFeatures("m",
            [new(3, 4, ExactValues(12, 1)), new(3, extension == ".npy" ? 4 : 2, ExactValues(extension == ".npy" ? 12 : 6, 2))]);
        FeatureFile.Save(validPath, model);
        byte[] valid = File.ReadAllBytes(validPath);
        int headerEnd = extension == ".npy" ? 128 : 8 + (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(valid);

        var rng = new Random(12345);
        string path = dir.PathOf("fuzz" + extension);
        for (int round = 0; round < 1000; round++)
        {
            byte[] bytes = (byte[])valid.Clone();
            switch (round % 5)
            {
                case 4: // one header digit made a long run of nines: a huge declared size
                    int digit = Array.FindIndex(bytes, 10, Math.Max(0, headerEnd - 10), b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0) bytes = [.. bytes[..digit], .. "999999999999"u8.ToArray(), .. bytes[(digit + 1)..]];
                    break;
                case 0: // a few random bytes anywhere in the header
                    for (int k = rng.Next(1, 4); k > 0; k--) bytes[rng.Next(headerEnd)] = (byte)rng.Next(256);
                    break;
                case 1: // one header byte replaced by a structural character
                    bytes[rng.Next(headerEnd)] = (byte)Structural[rng.Next(Structural.Length)];
                    break;
                case 2: // truncated anywhere
                    bytes = bytes[..rng.Next(bytes.Length)];
                    break;
                default: // random bytes in the data
                    bytes[headerEnd + rng.Next(bytes.Length - headerEnd)] = (byte)rng.Next(256);
                    break;
            }
            File.WriteAllBytes(path, bytes);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                FeatureFile.Load(path);
            }
            catch (TensorFileException e)
            {
                Assert.StartsWith(path + ": ", e.Message);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= 4L * bytes.Length + (256 << 10), $"round {round}: {allocated} bytes allocated for a {bytes.Length}-byte file");
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"round {round}: {watch.Elapsed.TotalSeconds:0.00} s");
        }
    }
}
