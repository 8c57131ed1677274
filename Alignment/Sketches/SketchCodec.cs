using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Prh.Alignment.Sketches;

/// <summary>
/// Sketch pieces as bytes, so a cluster can store each model's sketch once and any machine can score
/// with it: little-endian, a magic and a kind, the sizes, then the raw arrays. Decoding checks every
/// size against the bytes it has and refuses anything that does not add up.
/// </summary>
public static class SketchCodec
{
    private const uint Magic = 0x4B534850; // "PHSK"
    private const byte NeighbourKind = 1, KernelKind = 2;

    public static byte[] Encode(IReadOnlyList<NeighbourLists> layers)
    {
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
        var reader = new Reader(bytes, NeighbourKind, 3);
        int n = reader.Sizes[0], columns = reader.Sizes[1], count = reader.Sizes[2];
        var layers = new NeighbourLists[count];
        for (int l = 0; l < count; l++)
            layers[l] = new NeighbourLists(n, columns, reader.Array<int>(n * columns), reader.Array<double>(n * columns), reader.Array<double>(n));
        reader.End();
        return layers;
    }

    public static byte[] Encode(CentredKernels kernels)
    {
        using var stream = new MemoryStream();
        Header(stream, KernelKind, [kernels.SampleCount, kernels.LayerCount, kernels.Kernel.IsRbf ? 1 : 0, (int)kernels.Centring]);
        Span<byte> sigma = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleLittleEndian(sigma, kernels.Kernel.Sigma);
        stream.Write(sigma);
        stream.Write(MemoryMarshal.AsBytes(kernels.Hsic.AsSpan()));
        stream.Write(MemoryMarshal.AsBytes(kernels.Stack.AsSpan()));
        return stream.ToArray();
    }

    public static CentredKernels DecodeKernels(ReadOnlySpan<byte> bytes)
    {
        var reader = new Reader(bytes, KernelKind, 4);
        int n = reader.Sizes[0], layers = reader.Sizes[1];
        if (reader.Sizes[3] is not (0 or 1)) throw new InvalidDataException($"unknown centring {reader.Sizes[3]}");
        double sigma = reader.Array<double>(1)[0];
        var kernel = reader.Sizes[2] == 1 ? KernelFunction.Rbf(sigma) : KernelFunction.InnerProduct;
        var hsic = reader.Array<double>(layers);
        var stack = reader.Array<double>(checked(CentredKernels.PackedLength(n) * layers));
        reader.End();
        return new CentredKernels(n, layers, kernel, (Centring)reader.Sizes[3], stack, hsic);
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
