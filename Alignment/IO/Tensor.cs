using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace Prh.Alignment.IO;

/// <summary>
/// One tensor read from a file: C-order (row-major) values, converted exactly to double from the
/// file's element type <see cref="SourceType"/>. For a .npy file <see cref="Name"/> is the file name
/// without extension; for .safetensors it is the tensor's key.
/// </summary>
public sealed record Tensor(string Name, int[] Shape, TensorDType SourceType, double[] Values)
{
    public int Rank => Shape.Length;
}

/// <summary>Element conversion shared by the .npy and .safetensors readers and writers.</summary>
internal static class TensorCodec
{
    private const int ChunkBytes = 1 << 20;

    public static int ItemSize(TensorDType dtype) => dtype switch
    {
        TensorDType.UInt8 or TensorDType.Bool => 1,
        TensorDType.Float16 or TensorDType.BFloat16 => 2,
        TensorDType.Float32 or TensorDType.Int32 => 4,
        TensorDType.Float64 or TensorDType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static string Describe(TensorDType dtype) => dtype switch
    {
        TensorDType.Float16 => "float16",
        TensorDType.BFloat16 => "bfloat16",
        TensorDType.Float32 => "float32",
        TensorDType.Float64 => "float64",
        TensorDType.Int64 => "int64",
        TensorDType.Int32 => "int32",
        TensorDType.UInt8 => "uint8",
        TensorDType.Bool => "bool",
        _ => dtype.ToString(),
    };

    /// <summary>Integers and booleans: model inputs (token ids, masks), never features.</summary>
    public static bool IsInteger(this TensorDType dtype) => dtype is TensorDType.Int64 or TensorDType.Int32 or TensorDType.UInt8 or TensorDType.Bool;

    /// <summary>The largest integer magnitude a double holds exactly, and so the largest int64 a tensor may hold.</summary>
    public const double MaxExactInteger = 9007199254740992; // 2^53

    public static string FormatShape(ReadOnlySpan<int> shape)
    {
        var parts = new string[shape.Length];
        for (int i = 0; i < shape.Length; i++) parts[i] = shape[i].ToString(System.Globalization.CultureInfo.InvariantCulture);
        return "[" + string.Join(", ", parts) + "]";
    }

    public static string NonFiniteName(double v) =>
        double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

    /// <summary>"NaN at [3, 1, 7] (flat index 1234)" for the value at <paramref name="flatIndex"/>.</summary>
    public static string DescribeNonFinite(ReadOnlySpan<int> shape, long flatIndex, double value)
    {
        var position = new long[shape.Length];
        long rest = flatIndex;
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            if (shape[k] == 0) break;
            position[k] = rest % shape[k];
            rest /= shape[k];
        }
        string at = shape.Length == 0 ? "the scalar" : "[" + string.Join(", ", position) + "]";
        return double.IsFinite(value)
            ? $"{value:R} at {at} (flat index {flatIndex}) is not a value its type holds here (bool: 0 or 1; int64: at most 2^53 in magnitude, the integers a double holds exactly)"
            : $"{NonFiniteName(value)} at {at} (flat index {flatIndex}); non-finite values are not allowed";
    }

    /// <summary>Product of the dimensions, saturating at <see cref="long.MaxValue"/>.</summary>
    public static long SaturatingCount(ReadOnlySpan<int> shape)
    {
        foreach (int d in shape) if (d == 0) return 0;
        long n = 1;
        foreach (int d in shape)
            n = d > 0 && n > long.MaxValue / d ? long.MaxValue : n * d;
        return n;
    }

    /// <summary>Product of the dimensions, exact (never overflows).</summary>
    public static BigInteger ElementCount(IEnumerable<BigInteger> dims)
    {
        BigInteger n = BigInteger.One;
        foreach (var d in dims) n *= d;
        return n;
    }

    /// <summary>
    /// Reads <c>destination.Length</c> little-endian elements of <paramref name="dtype"/> and converts
    /// them exactly to double. Returns the index of the first value that is not allowed (reading stops at
    /// the chunk holding it): NaN or infinity, an int64 beyond 2^53, a bool other than 0 or 1; or -1. Throws <see cref="EndOfStreamException"/>
    /// when the stream ends early.
    /// </summary>
    public static int ReadValues(Stream stream, TensorDType dtype, Span<double> destination)
    {
        if (dtype == TensorDType.Float64 && BitConverter.IsLittleEndian)
        {
            const int perChunk = ChunkBytes / 8;
            for (int done = 0; done < destination.Length;)
            {
                int n = Math.Min(perChunk, destination.Length - done);
                var part = destination.Slice(done, n);
                stream.ReadExactly(MemoryMarshal.AsBytes(part));
                if (!AllFinite(part)) return done + FirstNonFinite(part);
                done += n;
            }
            return -1;
        }

        int item = ItemSize(dtype);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int perChunk = ChunkBytes / item;
            for (int done = 0; done < destination.Length;)
            {
                int n = Math.Min(perChunk, destination.Length - done);
                var bytes = buffer.AsSpan(0, n * item);
                stream.ReadExactly(bytes);
                var part = destination.Slice(done, n);
                bool finite = BitConverter.IsLittleEndian ? Convert(dtype, bytes, part) : ConvertScalar(dtype, bytes, part);
                if (!finite) return done + FirstBad(dtype, bytes, part);
                done += n;
            }
            return -1;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The first value not allowed; an int64 is judged on its own bits (2^53 + 1 rounds to 2^53 as a double).</summary>
    private static int FirstBad(TensorDType dtype, ReadOnlySpan<byte> bytes, ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (dtype == TensorDType.Int64 ? !ExactInt64(BinaryPrimitives.ReadInt64LittleEndian(bytes.Slice(8 * i))) : !Allowed(dtype, values[i])) return i;
        return -1;
    }

    private static bool ExactInt64(long v) => v is >= -(1L << 53) and <= 1L << 53;

    private static double ReadExactInt64(ReadOnlySpan<byte> bytes, ref bool allowed)
    {
        long v = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        allowed &= ExactInt64(v);
        return v;
    }

    private static bool Allowed(TensorDType dtype, double v) => dtype switch
    {
        TensorDType.Bool => v is 0 or 1,
        _ => double.IsFinite(v),
    };

    private static int FirstNonFinite(ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i])) return i;
        return -1;
    }

    private static bool AllFinite(ReadOnlySpan<double> values) => TensorPrimitives.IsFiniteAll(values);

    /// <summary>
    /// Effectively computes <c>dst[i] = (double)element i of bytes</c> for little-endian float32, float16 or
    /// bfloat16 (exact: every value of those types is a double) with TensorPrimitives' vectorised conversions
    /// (bfloat16 is the upper half of a float32: widened and shifted); true when every value is finite.
    /// </summary>
    internal static bool Convert(TensorDType dtype, ReadOnlySpan<byte> bytes, Span<double> dst)
    {
        switch (dtype)
        {
            case TensorDType.Float32:
                TensorPrimitives.ConvertChecked(MemoryMarshal.Cast<byte, float>(bytes), dst);
                break;
            case TensorDType.Float16:
            {
                float[] singles = ArrayPool<float>.Shared.Rent(dst.Length);
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(bytes), singles.AsSpan(0, dst.Length));
                TensorPrimitives.ConvertChecked<float, double>(singles.AsSpan(0, dst.Length), dst);
                ArrayPool<float>.Shared.Return(singles);
                break;
            }
            case TensorDType.Int64:
            {
                var longs = MemoryMarshal.Cast<byte, long>(bytes);
                TensorPrimitives.ConvertChecked(longs, dst);
                return TensorPrimitives.Max(longs) <= 1L << 53 && TensorPrimitives.Min(longs) >= -(1L << 53);
            }
            case TensorDType.Int32:
                TensorPrimitives.ConvertChecked(MemoryMarshal.Cast<byte, int>(bytes), dst);
                return true;
            case TensorDType.UInt8:
                TensorPrimitives.ConvertChecked(bytes, dst);
                return true;
            case TensorDType.Bool:
                TensorPrimitives.ConvertChecked(bytes, dst);
                return TensorPrimitives.Max<double>(dst) <= 1;
            case TensorDType.BFloat16:
            {
                uint[] bits = ArrayPool<uint>.Shared.Rent(dst.Length);
                var wide = bits.AsSpan(0, dst.Length);
                TensorPrimitives.ConvertChecked(MemoryMarshal.Cast<byte, ushort>(bytes), wide);
                TensorPrimitives.ShiftLeft(wide, 16, wide);
                TensorPrimitives.ConvertChecked<float, double>(MemoryMarshal.Cast<uint, float>(wide), dst);
                ArrayPool<uint>.Shared.Return(bits);
                break;
            }
            default:
                return ConvertScalar(dtype, bytes, dst);
        }
        return AllFinite(dst);
    }

    /// <summary>The plain conversion, element by element from little-endian bytes on any host; what the vectorised one is tested against.</summary>
    internal static bool ConvertScalar(TensorDType dtype, ReadOnlySpan<byte> bytes, Span<double> dst)
    {
        bool allowed = true;
        for (int i = 0; i < dst.Length; i++)
        {
            double v = dtype switch
            {
                TensorDType.Float16 => (double)BinaryPrimitives.ReadHalfLittleEndian(bytes.Slice(2 * i)),
                TensorDType.BFloat16 => BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.Slice(2 * i))),
                TensorDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes.Slice(4 * i)),
                TensorDType.Int64 => ReadExactInt64(bytes.Slice(8 * i), ref allowed),
                TensorDType.Int32 => BinaryPrimitives.ReadInt32LittleEndian(bytes.Slice(4 * i)),
                TensorDType.UInt8 or TensorDType.Bool => bytes[i],
                _ => BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(8 * i)),
            };
            allowed &= Allowed(dtype, v);
            dst[i] = v;
        }
        return allowed;
    }

    public static float BFloat16ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    /// <summary>
    /// <paramref name="value"/> rounded to single precision with round-to-odd: the truncated value, with
    /// its last bit set when inexact. Rounding that result to any format with at least two fewer
    /// significand bits (half, bfloat16) gives the correctly rounded (nearest-even) result, free of
    /// double rounding.
    /// </summary>
    private static float RoundToOddSingle(double value)
    {
        float f = (float)value;
        if ((double)f == value || double.IsNaN(value)) return f;
        uint bits = BitConverter.SingleToUInt32Bits(f);
        if (Math.Abs((double)f) > Math.Abs(value)) bits -= 1; // step toward zero (Inf steps to MaxValue)
        return BitConverter.UInt32BitsToSingle(bits | 1);
    }

    public static Half ToHalf(double value) => (Half)RoundToOddSingle(value);

    public static ushort ToBFloat16Bits(double value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(RoundToOddSingle(value));
        if (float.IsNaN(BitConverter.UInt32BitsToSingle(bits))) return (ushort)((bits >> 16) | 0x0040);
        bits += 0x7FFFu + ((bits >> 16) & 1u); // round to nearest, ties to even
        return (ushort)(bits >> 16);
    }

    /// <summary>
    /// Converts <paramref name="values"/> to little-endian <paramref name="dtype"/> and writes them.
    /// Throws <see cref="ArgumentException"/> for a value that is not finite or not finite once
    /// converted (out of the dtype's range), since readers refuse such files.
    /// </summary>
    public static void WriteValues(Stream stream, TensorDType dtype, ReadOnlySpan<double> values, string what)
    {
        int item = ItemSize(dtype);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ChunkBytes);
        try
        {
            int perChunk = ChunkBytes / item;
            for (int done = 0; done < values.Length;)
            {
                int n = Math.Min(perChunk, values.Length - done);
                var src = values.Slice(done, n);
                var bytes = buffer.AsSpan(0, n * item);
                int bad = Encode(dtype, src, bytes);
                if (bad >= 0)
                {
                    double v = src[bad];
                    string why = !double.IsFinite(v) ? $"{NonFiniteName(v)} cannot be stored"
                        : dtype.IsInteger() ? $"{v:R} does not fit {Describe(dtype)}" : $"{v:R} is out of the {Describe(dtype)} range";
                    throw new ArgumentException($"{what}: value at flat index {done + bad}: {why}", nameof(values));
                }
                stream.Write(bytes);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Encodes; returns the first index whose encoded value is not finite, or -1.</summary>
    private static int Encode(TensorDType dtype, ReadOnlySpan<double> src, Span<byte> dst)
    {
        switch (dtype)
        {
            case TensorDType.Float64:
                for (int i = 0; i < src.Length; i++)
                {
                    if (!double.IsFinite(src[i])) return i;
                    BinaryPrimitives.WriteDoubleLittleEndian(dst.Slice(8 * i), src[i]);
                }
                return -1;
            case TensorDType.Float32:
                if (BitConverter.IsLittleEndian)
                {
                    var singles = MemoryMarshal.Cast<byte, float>(dst);
                    TensorPrimitives.ConvertTruncating(src, singles); // a cast: rounds to nearest
                    if (TensorPrimitives.IsFiniteAll<float>(singles)) return -1;
                }
                for (int i = 0; i < src.Length; i++)
                {
                    float f = (float)src[i];
                    if (!float.IsFinite(f)) return i;
                    BinaryPrimitives.WriteSingleLittleEndian(dst.Slice(4 * i), f);
                }
                return -1;
            case TensorDType.Float16:
                for (int i = 0; i < src.Length; i++)
                {
                    Half h = ToHalf(src[i]);
                    if (!Half.IsFinite(h)) return i;
                    BinaryPrimitives.WriteHalfLittleEndian(dst.Slice(2 * i), h);
                }
                return -1;
            case TensorDType.BFloat16:
                for (int i = 0; i < src.Length; i++)
                {
                    ushort b = ToBFloat16Bits(src[i]);
                    if ((b & 0x7F80) == 0x7F80) return i;
                    BinaryPrimitives.WriteUInt16LittleEndian(dst.Slice(2 * i), b);
                }
                return -1;
            case TensorDType.Int64 or TensorDType.Int32 or TensorDType.UInt8 or TensorDType.Bool:
            {
                var (min, max) = dtype switch
                {
                    TensorDType.Int64 => (-MaxExactInteger, MaxExactInteger),
                    TensorDType.Int32 => (int.MinValue, int.MaxValue),
                    TensorDType.UInt8 => (0d, 255d),
                    _ => (0d, 1d),
                };
                int item = ItemSize(dtype);
                for (int i = 0; i < src.Length; i++)
                {
                    double v = src[i];
                    if (!(v >= min && v <= max && v == Math.Floor(v))) return i;
                    var slot = dst.Slice(item * i, item);
                    switch (dtype)
                    {
                        case TensorDType.Int64: BinaryPrimitives.WriteInt64LittleEndian(slot, (long)v); break;
                        case TensorDType.Int32: BinaryPrimitives.WriteInt32LittleEndian(slot, (int)v); break;
                        default: slot[0] = (byte)v; break;
                    }
                }
                return -1;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype");
        }
    }

    /// <summary>Opens a file for a sequential read, wrapping I/O failures.</summary>
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TensorFileException(path, $"cannot open: {e.Message}", e);
        }
    }
}
