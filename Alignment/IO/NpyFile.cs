using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Prh.Alignment.IO;

/// <summary>
/// NumPy .npy files (format versions 1.0, 2.0, 3.0) holding little-endian, C-order float16, float32
/// or float64 arrays. Anything else is refused with a <see cref="TensorFileException"/>.
/// </summary>
public static class NpyFile
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private const int MaxHeaderLength = 1 << 20;
    private const int ArrayAlign = 64;
    private const int GrowthAxisMaxDigits = 21;

    /// <summary>True when <paramref name="content"/> starts as a .npy file does (for bytes whose name does not say, such as a stored blob).</summary>
    public static bool IsNpy(ReadOnlySpan<byte> content) => content.StartsWith(Magic);

    public static Tensor Read(string path) => Read(path, WholeTensor(path));

    /// <summary>The array of a file's bytes already in memory (<paramref name="path"/> names it in errors and gives the tensor its name).</summary>
    public static Tensor Read(string path, byte[] content) => Read(path, content, WholeTensor(path));

    private static Func<int[], TensorDType, Stream, Tensor> WholeTensor(string path) => (shape, dtype, stream) =>
    {
        var values = GC.AllocateUninitializedArray<double>(checked((int)TensorCodec.SaturatingCount(shape)));
        int bad = TensorCodec.ReadValues(stream, dtype, values);
        if (bad >= 0)
            throw new TensorFileException(path, TensorCodec.DescribeNonFinite(shape, bad, values[bad]));
        return new Tensor(System.IO.Path.GetFileNameWithoutExtension(path), shape, dtype, values);
    };

    /// <summary>
    /// Validates the header against the file (size included) and hands the data, positioned at its
    /// first value, to <paramref name="readData"/>, which decides where the values go: a caller can
    /// scatter them without holding the whole array twice.
    /// </summary>
    internal static T Read<T>(string path, Func<int[], TensorDType, Stream, T> readData) => Read(path, TensorCodec.OpenRead(path), readData);

    /// <summary><see cref="Read{T}(string, Func{int[], TensorDType, Stream, T})"/> over a file's bytes already in memory (<paramref name="path"/> names it in errors).</summary>
    internal static T Read<T>(string path, byte[] content, Func<int[], TensorDType, Stream, T> readData) =>
        Read(path, new MemoryStream(content, writable: false), readData);

    private static T Read<T>(string path, Stream opened, Func<int[], TensorDType, Stream, T> readData)
    {
        using var stream = opened;
        try
        {
            return ReadCore(path, stream, readData);
        }
        catch (EndOfStreamException e)
        {
            throw new TensorFileException(path, "truncated: the file ended while reading its data (was it modified while being read?)", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TensorFileException(path, $"read failed: {e.Message}", e);
        }
        catch (OutOfMemoryException e)
        {
            throw new TensorFileException(path, "not enough memory to hold the array", e);
        }
    }

    private static T ReadCore<T>(string path, Stream stream, Func<int[], TensorDType, Stream, T> readData)
    {
        long fileLength = stream.Length;
        Span<byte> prefix = stackalloc byte[12];
        int got = stream.ReadAtLeast(prefix[..10], 10, throwOnEndOfStream: false);
        if (got < 10)
            throw new TensorFileException(path, $"not a .npy file: too short ({fileLength} bytes) for the .npy preamble");
        if (!prefix[..6].SequenceEqual(Magic))
            throw new TensorFileException(path, "not a .npy file: wrong magic (expected \\x93NUMPY)");
        byte major = prefix[6], minor = prefix[7];
        long headerLength;
        int preamble;
        if (major == 1 && minor == 0)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(prefix[8..10]);
            preamble = 10;
        }
        else if ((major == 2 || major == 3) && minor == 0)
        {
            if (stream.ReadAtLeast(prefix[10..12], 2, throwOnEndOfStream: false) < 2)
                throw new TensorFileException(path, $"truncated: file ends inside the version {major}.0 preamble");
            headerLength = BinaryPrimitives.ReadUInt32LittleEndian(prefix[8..12]);
            preamble = 12;
        }
        else
        {
            throw new TensorFileException(path, $"unsupported .npy format version {major}.{minor} (supported: 1.0, 2.0, 3.0)");
        }
        if (headerLength > fileLength - preamble)
            throw new TensorFileException(path, $"truncated: header length {headerLength} exceeds the {fileLength - preamble} bytes after the preamble");
        if (headerLength > MaxHeaderLength)
            throw new TensorFileException(path, $"header length {headerLength} is implausibly large (> {MaxHeaderLength} bytes)");

        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (dtype, shapeBig) = ParseHeader(path, header);

        int itemSize = TensorCodec.ItemSize(dtype);
        BigInteger count = TensorCodec.ElementCount(shapeBig);
        BigInteger declaredBytes = count * itemSize;
        long dataStart = preamble + headerLength;
        long available = fileLength - dataStart;
        if (declaredBytes > available)
            throw new TensorFileException(path,
                $"truncated: header declares {count} values ({declaredBytes} bytes) but only {available} bytes follow");
        if (declaredBytes < available)
            throw new TensorFileException(path,
                $"{available - declaredBytes} trailing bytes: header declares {count} values ({declaredBytes} bytes) but {available} bytes follow");
        if (count > Array.MaxLength)
            throw new TensorFileException(path, $"too many values: {count} exceeds the largest array ({Array.MaxLength})");

        return readData(shapeBig.Select(d => (int)d).ToArray(), dtype, stream);
    }

    private static (TensorDType DType, List<BigInteger> Shape) ParseHeader(string path, string header)
    {
        Dictionary<string, object?> dict;
        try
        {
            var parser = new PyLiteralParser(header);
            dict = parser.ParseHeaderDict();
        }
        catch (FormatException e)
        {
            string shown = header.TrimEnd();
            if (shown.Length > 200) shown = shown[..200] + "...";
            throw new TensorFileException(path, $"cannot parse header dict: {e.Message} (header: {shown})", e);
        }

        foreach (var key in new[] { "descr", "fortran_order", "shape" })
            if (!dict.ContainsKey(key))
                throw new TensorFileException(path, $"cannot parse header dict: missing key '{key}'");

        // dtype
        TensorDType dtype;
        switch (dict["descr"])
        {
            case string descr:
                dtype = ParseDescr(path, descr);
                break;
            case PyList:
                throw new TensorFileException(path, "structured (record) dtypes are not supported; expected a plain float or integer array");
            default:
                throw new TensorFileException(path, $"cannot parse header dict: 'descr' is {PyLiteralParser.Show(dict["descr"])}, expected a dtype string");
        }

        // order
        if (dict["fortran_order"] is not bool fortran)
            throw new TensorFileException(path, $"cannot parse header dict: 'fortran_order' is {PyLiteralParser.Show(dict["fortran_order"])}, expected True or False");
        if (fortran)
            throw new TensorFileException(path, "Fortran-order arrays are not supported (fortran_order: True); save a C-order array (np.ascontiguousarray)");

        // shape
        if (dict["shape"] is not PyList shapeList)
            throw new TensorFileException(path, $"cannot parse header dict: 'shape' is {PyLiteralParser.Show(dict["shape"])}, expected a tuple of integers");
        var shape = new List<BigInteger>(shapeList.Items.Count);
        for (int k = 0; k < shapeList.Items.Count; k++)
        {
            if (shapeList.Items[k] is not BigInteger d)
                throw new TensorFileException(path, $"cannot parse header dict: shape dimension {k} is {PyLiteralParser.Show(shapeList.Items[k])}, expected an integer");
            if (d.Sign < 0)
                throw new TensorFileException(path, $"negative dimension {d} at axis {k} of shape {PyLiteralParser.Show(shapeList)}");
            if (d > int.MaxValue)
                throw new TensorFileException(path, $"dimension {d} at axis {k} of shape {PyLiteralParser.Show(shapeList)} is too large (max {int.MaxValue})");
            shape.Add(d);
        }
        return (dtype, shape);
    }

    private static TensorDType ParseDescr(string path, string descr)
    {
        char order = descr.Length > 0 && "<>|=".Contains(descr[0]) ? descr[0] : '\0';
        string code = order == '\0' ? descr : descr[1..];
        TensorDType? dtype = code switch
        {
            "f2" or "e" => TensorDType.Float16,
            "f4" or "f" => TensorDType.Float32,
            "f8" or "d" => TensorDType.Float64,
            "i8" or "q" => TensorDType.Int64,
            "i4" or "i" => TensorDType.Int32,
            "u1" or "B" => TensorDType.UInt8,
            "b1" or "?" => TensorDType.Bool,
            _ => null,
        };
        if (dtype is null)
        {
            string kind = code.StartsWith('O') ? " (object arrays are not supported)"
                : code.StartsWith('c') ? " (complex arrays are not supported)"
                : code.StartsWith('V') ? " (structured/void dtypes are not supported)"
                : "";
            throw new TensorFileException(path, $"unsupported dtype '{descr}'{kind}; expected '<f2', '<f4', '<f8', '<i8', '<i4', '|u1' or '|b1'");
        }
        if (order == '>' && TensorCodec.ItemSize(dtype.Value) > 1)
            throw new TensorFileException(path, $"big-endian dtype '{descr}' is not supported; expected little-endian ('<{code}')");
        return dtype.Value;
    }

    /// <summary>
    /// Writes a C-order little-endian array in format version 1.0 (2.0 when the header needs it), with
    /// NumPy's own header layout, so files match <c>np.save</c> byte for byte.
    /// </summary>
    public static void Write(string path, ReadOnlySpan<int> shape, ReadOnlySpan<double> values, TensorDType dtype = TensorDType.Float32)
    {
        string descr = dtype switch
        {
            TensorDType.Float16 => "<f2",
            TensorDType.Float32 => "<f4",
            TensorDType.Float64 => "<f8",
            TensorDType.Int64 => "<i8",
            TensorDType.Int32 => "<i4",
            TensorDType.UInt8 => "|u1",
            TensorDType.Bool => "|b1",
            TensorDType.BFloat16 => throw new ArgumentException("bfloat16 is not a NumPy dtype; write .safetensors for bfloat16", nameof(dtype)),
            _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
        };
        foreach (int d in shape)
            if (d < 0) throw new ArgumentException($"negative dimension in shape {TensorCodec.FormatShape(shape)}", nameof(shape));
        long count = TensorCodec.SaturatingCount(shape);
        if (count != values.Length)
            throw new ArgumentException($"shape {TensorCodec.FormatShape(shape)} holds {count} values but {values.Length} were given", nameof(values));

        var sb = new StringBuilder();
        sb.Append("{'descr': '").Append(descr).Append("', 'fortran_order': False, 'shape': (");
        for (int k = 0; k < shape.Length; k++)
        {
            if (k > 0) sb.Append(", ");
            sb.Append(shape[k].ToString(CultureInfo.InvariantCulture));
        }
        if (shape.Length == 1) sb.Append(',');
        sb.Append("), }");
        if (shape.Length > 0)
            sb.Append(' ', Math.Max(0, GrowthAxisMaxDigits - shape[0].ToString(CultureInfo.InvariantCulture).Length));

        byte[] header = Encoding.Latin1.GetBytes(sb.ToString());
        int version = 1, lengthBytes = 2;
        int hlen = header.Length + 1;
        int pad = ArrayAlign - ((Magic.Length + 2 + lengthBytes + hlen) % ArrayAlign);
        if (hlen + pad > ushort.MaxValue)
        {
            version = 2;
            lengthBytes = 4;
            pad = ArrayAlign - ((Magic.Length + 2 + lengthBytes + hlen) % ArrayAlign);
        }
        var prefix = new byte[Magic.Length + 2 + lengthBytes + header.Length + pad + 1];
        Magic.CopyTo(prefix);
        prefix[6] = (byte)version;
        prefix[7] = 0;
        if (lengthBytes == 2) BinaryPrimitives.WriteUInt16LittleEndian(prefix.AsSpan(8), (ushort)(hlen + pad));
        else BinaryPrimitives.WriteUInt32LittleEndian(prefix.AsSpan(8), (uint)(hlen + pad));
        header.CopyTo(prefix, 8 + lengthBytes);
        prefix.AsSpan(8 + lengthBytes + header.Length, pad).Fill((byte)' ');
        prefix[^1] = (byte)'\n';

        try
        {
            using var file = new AtomicFileWriter(path);
            file.Stream.Write(prefix);
            TensorCodec.WriteValues(file.Stream, dtype, values, path);
            file.Commit();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TensorFileException(path, $"cannot write: {e.Message}", e);
        }
    }
}

/// <summary>A Python tuple or list literal.</summary>
internal sealed record PyList(List<object?> Items, bool IsTuple);

/// <summary>
/// Parser for the Python literal subset .npy headers use: a dict with string keys whose values are
/// strings, True/False/None, integers (optionally with Python 2's L suffix), tuples and lists.
/// </summary>
internal sealed class PyLiteralParser(string text)
{
    private int _pos;

    public Dictionary<string, object?> ParseHeaderDict()
    {
        SkipWhitespace();
        if (Peek() != '{') throw Error("expected '{'");
        var value = ParseValue(0);
        SkipWhitespace();
        if (_pos != text.Length) throw Error("unexpected text after the dict");
        return (Dictionary<string, object?>)value!;
    }

    private object? ParseValue(int depth)
    {
        if (depth > 32) throw Error("nesting too deep");
        SkipWhitespace();
        char c = Peek();
        switch (c)
        {
            case '{':
            {
                _pos++;
                var dict = new Dictionary<string, object?>();
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() == '}') { _pos++; return dict; }
                    int keyAt = _pos;
                    if (ParseValue(depth + 1) is not string key) throw Error("dict keys must be strings", keyAt);
                    SkipWhitespace();
                    if (Peek() != ':') throw Error("expected ':'");
                    _pos++;
                    var value = ParseValue(depth + 1);
                    if (!dict.TryAdd(key, value)) throw Error($"duplicate key '{key}'", keyAt);
                    SkipWhitespace();
                    if (Peek() == ',') { _pos++; continue; }
                    if (Peek() == '}') { _pos++; return dict; }
                    throw Error("expected ',' or '}'");
                }
            }
            case '(':
            case '[':
            {
                char close = c == '(' ? ')' : ']';
                _pos++;
                var items = new List<object?>();
                bool sawComma = false;
                while (true)
                {
                    SkipWhitespace();
                    if (Peek() == close) { _pos++; break; }
                    items.Add(ParseValue(depth + 1));
                    SkipWhitespace();
                    if (Peek() == ',') { _pos++; sawComma = true; continue; }
                    if (Peek() == close) { _pos++; break; }
                    throw Error($"expected ',' or '{close}'");
                }
                if (c == '(' && items.Count == 1 && !sawComma) return items[0]; // (x) is just x
                return new PyList(items, c == '(');
            }
            case '\'':
            case '"':
                return ParseString(c);
            case '\0':
                throw Error("unexpected end of header");
            default:
                if (c == '-' || c == '+' || char.IsAsciiDigit(c)) return ParseInteger();
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    int start = _pos;
                    while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
                    string word = text[start.._pos];
                    return word switch
                    {
                        "True" => true,
                        "False" => false,
                        "None" => null,
                        _ => throw Error($"unexpected name '{word}'", start),
                    };
                }
                throw Error($"unexpected character '{c}'");
        }
    }

    private string ParseString(char quote)
    {
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= text.Length) throw Error("unterminated string");
            char c = text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\\')
            {
                if (_pos >= text.Length) throw Error("unterminated string");
                char e = text[_pos++];
                sb.Append(e switch { 'n' => '\n', 't' => '\t', 'r' => '\r', '0' => '\0', _ => e });
            }
            else if (c == '\n') throw Error("newline inside string");
            else sb.Append(c);
        }
    }

    private BigInteger ParseInteger()
    {
        int start = _pos;
        bool negative = false;
        if (Peek() == '-' || Peek() == '+') { negative = Peek() == '-'; _pos++; }
        SkipWhitespace();
        int digitsAt = _pos;
        while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] == '_')) _pos++;
        string digits = text[digitsAt.._pos].Replace("_", "");
        if (digits.Length == 0) throw Error("expected digits", start);
        if (digits.Length > 4000) throw Error("integer too long", start);
        if (_pos < text.Length && (text[_pos] == 'L' || text[_pos] == 'l')) _pos++; // Python 2 long
        if (_pos < text.Length && (text[_pos] == '.' || text[_pos] == 'e' || text[_pos] == 'E' || char.IsAsciiLetter(text[_pos])))
            throw Error("expected an integer", start);
        var value = BigInteger.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return negative ? -value : value;
    }

    private void SkipWhitespace()
    {
        while (_pos < text.Length && (text[_pos] is ' ' or '\t' or '\n' or '\r' or '\f' or '\v')) _pos++;
    }

    private char Peek() => _pos < text.Length ? text[_pos] : '\0';

    private FormatException Error(string what, int? at = null) => new($"{what} at offset {at ?? _pos}");

    public static string Show(object? value) => value switch
    {
        null => "None",
        bool b => b ? "True" : "False",
        string s => $"'{s}'",
        BigInteger i => i.ToString(CultureInfo.InvariantCulture),
        PyList l => (l.IsTuple ? "(" : "[") + string.Join(", ", l.Items.Select(Show)) + (l.IsTuple && l.Items.Count == 1 ? ",)" : l.IsTuple ? ")" : "]"),
        Dictionary<string, object?> d => "{" + string.Join(", ", d.Select(kv => $"'{kv.Key}': {Show(kv.Value)}")) + "}",
        _ => value.ToString() ?? "?",
    };
}
