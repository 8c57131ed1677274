using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Prh.Alignment.Sketches;

/// <summary>
/// Sketch pieces as bytes, so a cluster can store each model's sketch once and any machine can score
/// with it: a magic and a kind, the sizes, then the arrays. Sizes and the 6-byte kernel values are
/// little-endian; the int and double arrays are written in host byte order, which is little-endian on
/// every platform the cluster runs on (the codec refuses to run on any other). Decoding checks every
/// size against the bytes it has and refuses anything that does not add up.
/// <para>Centred kernels keep, per layer, α and e (float64) and the off-diagonal packed values rounded to
/// 36 fraction bits (<see cref="CentredKernels.Round"/>) in 6 bytes each: relative error at most
/// 2^-37 ≈ 7e-12, which keeps a model's stored kernels no larger than its float32 features once its layers
/// are about 3N/4 wide (<see cref="CentredKernels.Stored"/>). Scores from decoded kernels differ from
/// freshly built ones by about that much, except where U-centring cancels nearly all of a kernel (a
/// kernel close to the identity at small N, such as an RBF kernel of a sigma far below the distances),
/// where the unbiased HSIC's absolute error can reach 1e-7. The packed diagonal (e - 2α) and the
/// self-HSICs are recomputed on decoding.</para>
/// </summary>
public static class SketchCodec
{
    private const uint Magic = 0x4B534850; // "PHSK"
    private const byte NeighbourKind = 1, KernelKind = 3, SvccaKind = 4;

    public static byte[] Encode(IReadOnlyList<NeighbourLists> layers)
    {
        RequireLittleEndian();
        if (layers.Count == 0) throw new ArgumentException("no layers");
        int n = layers[0].SampleCount, columns = layers[0].Columns;
        using var stream = new MemoryStream();
        Header(stream, NeighbourKind, [n, columns, layers.Count]);
        foreach (var lists in layers)
        {
            if (lists.SampleCount != n || lists.Columns != columns) throw new ArgumentException("layers differ in N or columns");
            stream.Write(MemoryMarshal.AsBytes(lists.AllIndices));
            stream.Write(MemoryMarshal.AsBytes(lists.AllSimilarities));
            stream.Write(MemoryMarshal.AsBytes(lists.AllSelfSimilarities));
        }
        return stream.ToArray();
    }

    public static NeighbourLists[] DecodeNeighbours(ReadOnlySpan<byte> bytes)
    {
        RequireLittleEndian();
        var reader = new Reader(bytes, NeighbourKind, 3);
        int n = reader.Sizes[0], columns = reader.Sizes[1], count = reader.Sizes[2];
        var layers = new NeighbourLists[count];
        for (int l = 0; l < count; l++)
        {
            var indices = reader.Array<int>(checked(n * columns));
            foreach (int j in indices)
                if ((uint)j >= (uint)n) throw new InvalidDataException($"neighbour index {j} outside 0..{n - 1}");
            layers[l] = new NeighbourLists(n, columns, indices, reader.Array<double>(n * columns), reader.Array<double>(n));
        }
        reader.End();
        return layers;
    }

    /// <summary>Bytes of the encoded kernels of <paramref name="layers"/> layers of <paramref name="n"/> samples.</summary>
    public static long KernelBytes(int n, int layers) =>
        5 + 4 * 3 + 8 + (long)layers * (8 + 2L * n * 8 + 6L * (CentredKernels.PackedLength(n) - n));

    public static byte[] Encode(CentredKernels kernels)
    {
        RequireLittleEndian();
        int n = kernels.SampleCount, p = kernels.PackedSize;
        var bytes = new byte[KernelBytes(n, kernels.LayerCount)];
        using (var stream = new MemoryStream(bytes))
        {
            Header(stream, KernelKind, [n, kernels.LayerCount, kernels.Kernel.IsRbf ? 1 : 0]);
            Span<byte> sigma = stackalloc byte[8];
            BinaryPrimitives.WriteDoubleLittleEndian(sigma, kernels.Kernel.Sigma);
            stream.Write(sigma);
            var packed = new byte[6 * (p - n)];
            for (int l = 0; l < kernels.LayerCount; l++)
            {
                stream.Write(MemoryMarshal.AsBytes(kernels.AlphaSum.AsSpan(l, 1)));
                stream.Write(MemoryMarshal.AsBytes(kernels.Alpha.AsSpan(l * n, n)));
                stream.Write(MemoryMarshal.AsBytes(kernels.Excess.AsSpan(l * n, n)));
                var row = kernels.Row(l);
                int q = 0, at = 0;
                for (int i = 0; i < n; i++)
                {
                    q++; // the diagonal is not stored
                    PackOffDiagonal(row.Slice(q, n - i - 1), packed.AsSpan(at, 6 * (n - i - 1)));
                    q += n - i - 1;
                    at += 6 * (n - i - 1);
                }
                stream.Write(packed);
            }
        }
        return bytes;
    }

    public static CentredKernels DecodeKernels(ReadOnlySpan<byte> bytes)
    {
        var (n, layers, kernel) = KernelHeader(bytes);
        var kernels = CentredKernels.Allocate(n, layers, kernel);
        DecodeKernels(bytes, kernels, 0);
        return kernels;
    }

    /// <summary>The sizes and kernel function of encoded kernels, checked against their length.</summary>
    public static (int SampleCount, int LayerCount, KernelFunction Kernel) KernelHeader(ReadOnlySpan<byte> bytes)
    {
        RequireLittleEndian();
        var reader = new Reader(bytes, KernelKind, 3);
        int n = reader.Sizes[0], layers = reader.Sizes[1];
        if (reader.Sizes[2] is not (0 or 1)) throw new InvalidDataException($"unknown kernel function {reader.Sizes[2]}");
        if (bytes.Length != KernelBytes(n, layers))
            throw new InvalidDataException($"encoded kernels of {layers} layers of {n} samples take {KernelBytes(n, layers)} bytes, not {bytes.Length}");
        double sigma = BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(5 + 4 * 3, 8));
        return (n, layers, reader.Sizes[2] == 1 ? KernelFunction.Rbf(sigma) : KernelFunction.InnerProduct);
    }

    /// <summary>Decodes encoded kernels into <paramref name="target"/>'s layers from <paramref name="firstLayer"/> on (a block's stack).</summary>
    public static void DecodeKernels(ReadOnlySpan<byte> bytes, CentredKernels target, int firstLayer)
    {
        var (n, layers, kernel) = KernelHeader(bytes);
        if (n != target.SampleCount || kernel != target.Kernel || firstLayer < 0 || firstLayer + layers > target.LayerCount)
            throw new ArgumentException($"encoded {kernel} kernels of {layers} layers of {n} samples do not fit at layer {firstLayer} of {target.LayerCount} " +
                $"({target.Kernel}, N = {target.SampleCount})");
        int p = CentredKernels.PackedLength(n);
        var rest = bytes[(5 + 4 * 3 + 8)..];
        for (int l = firstLayer; l < firstLayer + layers; l++)
        {
            target.AlphaSum[l] = MemoryMarshal.Read<double>(rest);
            rest = rest[8..];
            var alpha = target.Alpha.AsSpan(l * n, n);
            var excess = target.Excess.AsSpan(l * n, n);
            MemoryMarshal.Cast<byte, double>(rest[..(8 * n)]).CopyTo(alpha);
            rest = rest[(8 * n)..];
            MemoryMarshal.Cast<byte, double>(rest[..(8 * n)]).CopyTo(excess);
            rest = rest[(8 * n)..];
            var row = target.Row(l);
            int q = 0, at = 0;
            for (int i = 0; i < n; i++)
            {
                row[q++] = excess[i] - 2 * alpha[i];
                UnpackOffDiagonal(rest.Slice(at, 6 * (n - i - 1)), row.Slice(q, n - i - 1));
                q += n - i - 1;
                at += 6 * (n - i - 1);
            }
            rest = rest[(6 * (p - n))..];
            target.CompleteLayer(l);
        }
    }

    /// <summary>Each value rounded to 36 fraction bits and its top 6 bytes written, little-endian (8-byte stores, each overlapping the next slot).</summary>
    private static void PackOffDiagonal(ReadOnlySpan<double> values, Span<byte> target)
    {
        int v = 0;
        for (; v < values.Length - 1; v++)
        {
            ulong bits = (ulong)BitConverter.DoubleToInt64Bits(CentredKernels.Round(values[v])) >> 16;
            BinaryPrimitives.WriteUInt64LittleEndian(target[(6 * v)..], bits);
        }
        for (; v < values.Length; v++)
        {
            ulong bits = (ulong)BitConverter.DoubleToInt64Bits(CentredKernels.Round(values[v])) >> 16;
            for (int b = 0; b < 6; b++) target[6 * v + b] = (byte)(bits >> (8 * b));
        }
    }

    /// <summary>The inverse of <see cref="PackOffDiagonal"/>: 8-byte loads, the two bytes of the next slot shifted out.</summary>
    private static void UnpackOffDiagonal(ReadOnlySpan<byte> source, Span<double> values)
    {
        int v = 0;
        for (; v < values.Length - 1; v++)
            values[v] = BitConverter.Int64BitsToDouble((long)(BinaryPrimitives.ReadUInt64LittleEndian(source[(6 * v)..]) << 16));
        for (; v < values.Length; v++)
        {
            ulong bits = 0;
            for (int b = 0; b < 6; b++) bits |= (ulong)source[6 * v + b] << (8 * b);
            values[v] = BitConverter.Int64BitsToDouble((long)(bits << 16));
        }
    }

    public static byte[] Encode(IReadOnlyList<SvccaBasis> bases)
    {
        RequireLittleEndian();
        if (bases.Count == 0) throw new ArgumentException("no layers");
        int n = bases[0].SampleCount, d = bases[0].Dimension;
        using var stream = new MemoryStream();
        Header(stream, SvccaKind, [n, bases.Count, d]);
        foreach (var basis in bases)
        {
            if (basis.SampleCount != n || basis.Dimension != d) throw new ArgumentException("layers differ in N or cca_dim");
            stream.Write(MemoryMarshal.AsBytes(basis.Vectors.AsSpan()));
        }
        return stream.ToArray();
    }

    public static SvccaBasis[] DecodeSvcca(ReadOnlySpan<byte> bytes)
    {
        RequireLittleEndian();
        var reader = new Reader(bytes, SvccaKind, 3);
        int n = reader.Sizes[0], count = reader.Sizes[1], d = reader.Sizes[2];
        var bases = new SvccaBasis[count];
        for (int l = 0; l < count; l++) bases[l] = new SvccaBasis(n, d, reader.Array<double>(checked(d * n)));
        reader.End();
        return bases;
    }

    private static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("sketches are stored little-endian; this host is big-endian");
    }

    private static void Header(Stream stream, byte kind, int[] sizes)
    {
        Span<byte> header = stackalloc byte[5 + 4 * sizes.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        header[4] = kind;
        for (int i = 0; i < sizes.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(header[(5 + 4 * i)..], sizes[i]);
        stream.Write(header);
    }

    private ref struct Reader
    {
        private ReadOnlySpan<byte> _rest;
        public readonly int[] Sizes;

        public Reader(ReadOnlySpan<byte> bytes, byte kind, int sizeCount)
        {
            if (bytes.Length < 5 + 4 * sizeCount || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || bytes[4] != kind)
                throw new InvalidDataException("not a sketch of the expected kind");
            Sizes = new int[sizeCount];
            for (int i = 0; i < sizeCount; i++)
            {
                Sizes[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes[(5 + 4 * i)..]);
                if (Sizes[i] < 0) throw new InvalidDataException($"negative size {Sizes[i]}");
            }
            _rest = bytes[(5 + 4 * sizeCount)..];
        }

        public T[] Array<T>(int count) where T : unmanaged
        {
            long byteCount = (long)count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
            if (count < 0 || byteCount > _rest.Length) throw new InvalidDataException($"sketch truncated: needs {byteCount} more bytes, has {_rest.Length}");
            var values = MemoryMarshal.Cast<byte, T>(_rest[..(int)byteCount]).ToArray();
            _rest = _rest[(int)byteCount..];
            return values;
        }

        public readonly void End()
        {
            if (_rest.Length != 0) throw new InvalidDataException($"{_rest.Length} bytes after the sketch");
        }
    }
}
