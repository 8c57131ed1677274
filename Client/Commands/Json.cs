using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Prh.Client.Commands;

/// <summary>
/// The JSON the commands print: one line per document, written with <see cref="Utf8JsonWriter"/>.
/// Numbers round-trip (shortest form); NaN and infinities are written as Python's json module writes
/// them (NaN, Infinity, -Infinity), since the reference returns NaN in places and strict JSON has no
/// spelling for it.
/// </summary>
internal static class Json
{
    // Printed to a console or read by a program, never embedded in HTML: quotes and non-ASCII
    // characters in paths and messages are left as they are.
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The document <paramref name="write"/> writes, as text.</summary>
    public static string Document(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Options)) write(writer);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>A number as the JSON prints it; the CSV and the tables print numbers the same way.</summary>
    public static string Number(double v) =>
        double.IsNaN(v) ? "NaN"
        : double.IsPositiveInfinity(v) ? "Infinity"
        : double.IsNegativeInfinity(v) ? "-Infinity"
        : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Like <see cref="Utf8JsonWriter.WriteNumberValue(double)"/>, which refuses non-finite values.</summary>
    public static void WriteDoubleValue(this Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteRawValue(Number(value), skipInputValidation: true);
    }

    public static void WriteDouble(this Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        writer.WriteDoubleValue(value);
    }

    /// <summary>A layer pair <c>[i, j]</c>, or null.</summary>
    public static void WritePairValue(this Utf8JsonWriter writer, (int, int)? pair)
    {
        if (pair is not { } p) { writer.WriteNullValue(); return; }
        writer.WriteStartArray();
        writer.WriteNumberValue(p.Item1);
        writer.WriteNumberValue(p.Item2);
        writer.WriteEndArray();
    }

    public static void WriteArrayValue<T>(this Utf8JsonWriter writer, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        writer.WriteStartArray();
        foreach (var item in items) write(writer, item);
        writer.WriteEndArray();
    }

    public static void WriteArray<T>(this Utf8JsonWriter writer, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> write)
    {
        writer.WritePropertyName(name);
        writer.WriteArrayValue(items, write);
    }

    public static void WriteStrings(this Utf8JsonWriter writer, string name, IEnumerable<string> items) =>
        writer.WriteArray(name, items, (w, s) => w.WriteStringValue(s));

    /// <summary>A list of rows, each a list of cells.</summary>
    public static void WriteMatrix<T>(this Utf8JsonWriter writer, string name, IEnumerable<IEnumerable<T>> rows, Action<Utf8JsonWriter, T> write) =>
        writer.WriteArray(name, rows, (w, row) => w.WriteArrayValue(row, write));

    /// <summary>A 2-D array's rows.</summary>
    public static IEnumerable<IEnumerable<T>> Rows<T>(T[,] m) =>
        Enumerable.Range(0, m.GetLength(0)).Select(i => Enumerable.Range(0, m.GetLength(1)).Select(j => m[i, j]));
}
