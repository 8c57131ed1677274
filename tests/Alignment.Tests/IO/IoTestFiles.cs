using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace Prh.Alignment.Tests.IO;

/// <summary>A temporary folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Root = Path.Combine(Path.GetTempPath(), "prh-io-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string name) => Path.Combine(Root, name);

    public string Write(string name, byte[] content)
    {
        string path = PathOf(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Builds .npy and .safetensors files byte by byte, including broken ones.</summary>
public static class IoTestFiles
{
    /// <summary>The reference fixtures: PRH_FIXTURES, or shared/fixtures/alignment above the test binaries.</summary>
    public static string Fixture(string relative)
    {
        string? fromEnv = Environment.GetEnvironmentVariable("PRH_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv)) return Path.Combine(fromEnv, relative);
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "alignment", relative);
            if (File.Exists(candidate)) return candidate;
        }
        return Path.Combine("/work/shared/fixtures/alignment", relative);
    }

    public static string Dict(string descr, string shape, bool fortran = false) =>
        $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}";

    /// <summary>A .npy file: magic, version, header length, the header padded to 64 bytes, then data.</summary>
    public static byte[] Npy(string header, byte[] data, byte major = 1, byte minor = 0, byte[]? magic = null)
    {
        byte[] text = (major >= 3 ? Encoding.UTF8 : Encoding.Latin1).GetBytes(header);
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 6 + 2 + lengthBytes + text.Length + 1;
        int pad = (64 - unpadded % 64) % 64;
        int headerLength = text.Length + pad + 1;
        var bytes = new List<byte>();
        bytes.AddRange(magic ?? [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y']);
        bytes.Add(major);
        bytes.Add(minor);
        var len = new byte[lengthBytes];
        if (lengthBytes == 2) BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)headerLength);
        else BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)headerLength);
        bytes.AddRange(len);
        bytes.AddRange(text);
        bytes.AddRange(Enumerable.Repeat((byte)' ', pad));
        bytes.Add((byte)'\n');
        bytes.AddRange(data);
        return bytes.ToArray();
    }

    /// <summary>A .safetensors file: u64 header length (or an override), the JSON header, then data.</summary>
    public static byte[] Safetensors(string json, byte[] data, ulong? headerLength = null)
    {
        byte[] text = Encoding.UTF8.GetBytes(json);
        var bytes = new byte[8 + text.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)text.Length);
        text.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + text.Length);
        return bytes;
    }

    public static byte[] F32(params float[] values) => LittleEndian(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    public static byte[] F64(params double[] values) => LittleEndian(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    public static byte[] U16(params ushort[] values) => LittleEndian(MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public static float[] Floats(int count, Func<int, float>? value = null) =>
        Enumerable.Range(0, count).Select(i => value?.Invoke(i) ?? (i % 13 - 6) * 0.25f).ToArray();

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] LittleEndian(byte[] bytes)
    {
        Assert.True(BitConverter.IsLittleEndian, "test builders assume a little-endian machine");
        return bytes;
    }

    /// <summary>Values exactly representable in every dtype (bfloat16 included): small multiples of 1/8.</summary>
    public static double[] ExactValues(int count, int seed = 0) =>
        Enumerable.Range(0, count).Select(i => ((i * 7 + seed) % 61 - 30) * 0.125).ToArray();

    public static void AssertBitEqual(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.DoubleToInt64Bits(expected[i]) != BitConverter.DoubleToInt64Bits(actual[i]))
                Assert.Fail($"value {i}: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
