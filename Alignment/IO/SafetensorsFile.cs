using System.Buffers.Binary;
using System.Numerics;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Prh.Alignment.IO;

/// <summary>
/// .safetensors files: an 8-byte little-endian header length, a JSON header mapping tensor names to
/// dtype, shape and data_offsets, then the data buffer. F16, BF16, F32 and F64 tensors are supported, and
/// I64, I32, U8 and BOOL for model inputs (token ids, masks);
/// the layout is validated as strictly as the reference implementation (tensors tile the buffer
/// exactly, without gaps, overlaps or trailing bytes).
/// </summary>
public static class SafetensorsFile
{
    /// <summary>The reference implementation's limit on the header size.</summary>
    public const long MaxHeaderLength = 100_000_000;

    private sealed record Entry(string Name, TensorDType DType, string DTypeName, int[] Shape, ulong Begin, ulong End, BigInteger Count);

    /// <summary>All tensors, in the order of their data offsets; <c>__metadata__</c> is ignored.</summary>
    public static IReadOnlyList<Tensor> Read(string path) => Read(path, TensorCodec.OpenRead(path));

    /// <summary>The tensors of a file's bytes already in memory (<paramref name="path"/> names it in errors).</summary>
    public static IReadOnlyList<Tensor> Read(string path, byte[] content) => Read(path, new MemoryStream(content, writable: false));

    private static IReadOnlyList<Tensor> Read(string path, Stream opened)
    {
        using var stream = opened;
        try
        {
            return ReadCore(path, stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TensorFileException(path, $"read failed: {e.Message}", e);
        }
        catch (OutOfMemoryException e)
        {
            throw new TensorFileException(path, "not enough memory to hold the tensors", e);
        }
    }

    private static IReadOnlyList<Tensor> ReadCore(string path, Stream stream)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new TensorFileException(path, $"not a safetensors file: too short ({fileLength} bytes) for the 8-byte header length");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderLength)
            throw new TensorFileException(path, $"header length {headerLength} is absurd (> {MaxHeaderLength} bytes); not a safetensors file?");
        if ((long)headerLength > fileLength - 8)
            throw new TensorFileException(path, $"header length {headerLength} exceeds the {fileLength - 8} bytes after the length field (truncated or not a safetensors file)");

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        long bufferLength = fileLength - dataStart;
        var entries = ParseHeader(path, header);

        foreach (var e in entries)
        {
            if (e.End > (ulong)bufferLength)
                throw new TensorFileException(path,
                    $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] out of range: the data buffer holds only {bufferLength} bytes (truncated file?)");
            BigInteger declared = e.Count * TensorCodec.ItemSize(e.DType);
            if (declared != e.End - e.Begin)
                throw new TensorFileException(path,
                    $"tensor '{e.Name}': header says shape {TensorCodec.FormatShape(e.Shape)} of {e.DTypeName} = {declared} bytes, offsets give {e.End - e.Begin} bytes");
        }

        var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
        ulong cursor = 0;
        Entry? previous = null;
        foreach (var e in ordered)
        {
            if (e.Begin < cursor)
                throw new TensorFileException(path,
                    $"tensor '{e.Name}': data_offsets [{e.Begin}, {e.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
            if (e.Begin > cursor)
                throw new TensorFileException(path,
                    $"tensor '{e.Name}': gap of {e.Begin - cursor} bytes before its data_offsets [{e.Begin}, {e.End}]; tensors must tile the data buffer");
            cursor = e.End;
            previous = e;
        }
        if (cursor != (ulong)bufferLength)
            throw new TensorFileException(path,
                $"{(ulong)bufferLength - cursor} trailing bytes: tensors cover {cursor} bytes of a {bufferLength}-byte data buffer");

        var tensors = new List<Tensor>(ordered.Count);
        foreach (var e in ordered)
        {
            if (e.Count > Array.MaxLength)
                throw new TensorFileException(path, $"tensor '{e.Name}': too many values ({e.Count}, max {Array.MaxLength})");
            var values = GC.AllocateUninitializedArray<double>((int)e.Count);
            stream.Position = dataStart + (long)e.Begin;
            int bad;
            try
            {
                bad = TensorCodec.ReadValues(stream, e.DType, values);
            }
            catch (EndOfStreamException ex)
            {
                throw new TensorFileException(path, $"tensor '{e.Name}': truncated: the file ended while reading its data", ex);
            }
            if (bad >= 0)
                throw new TensorFileException(path, $"tensor '{e.Name}': {TensorCodec.DescribeNonFinite(e.Shape, bad, values[bad])}");
            tensors.Add(new Tensor(e.Name, e.Shape, e.DType, values));
        }
        return tensors;
    }

    private static List<Entry> ParseHeader(string path, byte[] header)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new TensorFileException(path, $"invalid JSON header: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new TensorFileException(path, $"invalid header: expected a JSON object, got {root.ValueKind}");
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var entries = new List<Entry>();
            try
            {
                foreach (var property in root.EnumerateObject())
                {
                    string name = property.Name;
                    if (!seen.Add(name))
                        throw new TensorFileException(path, $"duplicate tensor name '{name}' in the header");
                    if (name == "__metadata__") continue;
                    entries.Add(ParseEntry(path, name, property.Value));
                }
            }
            catch (InvalidOperationException e) // a string that is not valid UTF-8
            {
                throw new TensorFileException(path, $"invalid JSON header: {e.Message}", e);
            }
            return entries;
        }
    }

    private static Entry ParseEntry(string path, string name, JsonElement value)
    {
        TensorFileException Bad(string what) => new(path, $"tensor '{name}': {what}");
        if (value.ValueKind != JsonValueKind.Object)
            throw Bad($"header entry is a JSON {value.ValueKind}, expected an object with dtype, shape and data_offsets");

        JsonElement? dtypeEl = null, shapeEl = null, offsetsEl = null;
        foreach (var field in value.EnumerateObject())
        {
            ref JsonElement? slot = ref dtypeEl;
            switch (field.Name)
            {
                case "dtype": slot = ref dtypeEl; break;
                case "shape": slot = ref shapeEl; break;
                case "data_offsets": slot = ref offsetsEl; break;
                default: continue;
            }
            if (slot is not null) throw Bad($"duplicate field '{field.Name}'");
            slot = field.Value;
        }
        if (dtypeEl is null) throw Bad("missing 'dtype'");
        if (shapeEl is null) throw Bad("missing 'shape'");
        if (offsetsEl is null) throw Bad("missing 'data_offsets'");

        if (dtypeEl.Value.ValueKind != JsonValueKind.String) throw Bad($"'dtype' is a JSON {dtypeEl.Value.ValueKind}, expected a string");
        string dtypeName = dtypeEl.Value.GetString()!;
        TensorDType dtype = dtypeName switch
        {
            "F16" => TensorDType.Float16,
            "BF16" => TensorDType.BFloat16,
            "F32" => TensorDType.Float32,
            "F64" => TensorDType.Float64,
            "I64" => TensorDType.Int64,
            "I32" => TensorDType.Int32,
            "U8" => TensorDType.UInt8,
            "BOOL" => TensorDType.Bool,
            _ => throw Bad($"unsupported dtype '{dtypeName}'; supported: F16, BF16, F32, F64, I64, I32, U8, BOOL"),
        };

        if (shapeEl.Value.ValueKind != JsonValueKind.Array) throw Bad($"'shape' is a JSON {shapeEl.Value.ValueKind}, expected an array of integers");
        var shape = new int[shapeEl.Value.GetArrayLength()];
        BigInteger count = BigInteger.One;
        int k = 0;
        foreach (var d in shapeEl.Value.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetUInt64(out ulong dim))
                throw Bad($"'shape' must hold non-negative integers, got {d.GetRawText()} at axis {k}");
            if (dim > int.MaxValue) throw Bad($"dimension {dim} at axis {k} is too large (max {int.MaxValue})");
            shape[k++] = (int)dim;
            count *= dim;
        }

        if (offsetsEl.Value.ValueKind != JsonValueKind.Array || offsetsEl.Value.GetArrayLength() != 2)
            throw Bad($"'data_offsets' must be [begin, end], got {offsetsEl.Value.GetRawText()}");
        var offsets = new ulong[2];
        k = 0;
        foreach (var o in offsetsEl.Value.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetUInt64(out offsets[k]))
                throw Bad($"'data_offsets' must be two non-negative integers, got {offsetsEl.Value.GetRawText()}");
            k++;
        }
        if (offsets[1] < offsets[0])
            throw Bad($"data_offsets [{offsets[0]}, {offsets[1]}] end before they begin");
        return new Entry(name, dtype, dtypeName, shape, offsets[0], offsets[1], count);
    }

    /// <summary>
    /// Writes the tensors, in the given order, contiguously. F32/F64/F16/BF16 (half and bfloat16 rounded
    /// to nearest even, exactly from double).
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, double[] Values, TensorDType DType)> tensors)
    {
        var (list, header) = Prepare(tensors);
        try
        {
            using var file = new AtomicFileWriter(path);
            WriteTo(file.Stream, list, header, path);
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TensorFileException(path, $"cannot write: {e.Message}", e);
        }
    }

    /// <summary>The bytes <see cref="Write"/> would put in a file, for callers that store them elsewhere (a blob store).</summary>
    public static byte[] Encode(IEnumerable<(string Name, int[] Shape, double[] Values, TensorDType DType)> tensors)
    {
        var (list, header) = Prepare(tensors);
        using var stream = new MemoryStream();
        WriteTo(stream, list, header, "safetensors");
        return stream.ToArray();
    }

    /// <summary>Checks the tensors and builds the JSON header (padded to 8 bytes).</summary>
    private static (List<(string Name, int[] Shape, double[] Values, TensorDType DType)> List, MemoryStream Header) Prepare(
        IEnumerable<(string Name, int[] Shape, double[] Values, TensorDType DType)> tensors)
    {
        var list = tensors.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var offsets = new (ulong Begin, ulong End)[list.Count];
        ulong cursor = 0;
        for (int i = 0; i < list.Count; i++)
        {
            var (name, shape, values, dtype) = list[i];
            ArgumentNullException.ThrowIfNull(name);
            ArgumentNullException.ThrowIfNull(shape);
            ArgumentNullException.ThrowIfNull(values);
            if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(tensors));
            if (!names.Add(name)) throw new ArgumentException($"duplicate tensor name '{name}'", nameof(tensors));
            foreach (int d in shape)
                if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in shape {TensorCodec.FormatShape(shape)}", nameof(tensors));
            long count = TensorCodec.SaturatingCount(shape);
            if (count != values.Length)
                throw new ArgumentException($"tensor '{name}': shape {TensorCodec.FormatShape(shape)} holds {count} values but {values.Length} were given", nameof(tensors));
            ulong bytes = (ulong)values.Length * (ulong)TensorCodec.ItemSize(dtype);
            offsets[i] = (cursor, cursor + bytes);
            cursor += bytes;
        }

        var json = new MemoryStream();
        using (var writer = new Utf8JsonWriter(json, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            for (int i = 0; i < list.Count; i++)
            {
                writer.WriteStartObject(list[i].Name);
                writer.WriteString("dtype", DTypeName(list[i].DType));
                writer.WriteStartArray("shape");
                foreach (int d in list[i].Shape) writer.WriteNumberValue(d);
                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(offsets[i].Begin);
                writer.WriteNumberValue(offsets[i].End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndObject();
        }
        while (json.Length % 8 != 0) json.WriteByte((byte)' ');

        return (list, json);
    }

    private static void WriteTo(Stream stream, List<(string Name, int[] Shape, double[] Values, TensorDType DType)> list, MemoryStream json, string what)
    {
        var length = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        stream.Write(length);
        json.Position = 0;
        json.CopyTo(stream);
        foreach (var (name, _, values, dtype) in list)
            TensorCodec.WriteValues(stream, dtype, values, $"{what}: tensor '{name}'");
    }

    private static string DTypeName(TensorDType dtype) => dtype switch
    {
        TensorDType.Float16 => "F16",
        TensorDType.BFloat16 => "BF16",
        TensorDType.Float32 => "F32",
        TensorDType.Float64 => "F64",
        TensorDType.Int64 => "I64",
        TensorDType.Int32 => "I32",
        TensorDType.UInt8 => "U8",
        TensorDType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };
}
