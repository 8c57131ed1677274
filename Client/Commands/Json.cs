using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Prh.Client.Commands;

/// <summary>
/// The JSON the commands print. Numbers round-trip (shortest "R" form); NaN and infinities are
/// written as Python's json module writes them (NaN, Infinity, -Infinity), since the reference
/// returns NaN in places and strict JSON has no spelling for it.
/// </summary>
internal static class Json
{
    public static string Number(double v) =>
        double.IsNaN(v) ? "NaN"
        : double.IsPositiveInfinity(v) ? "Infinity"
        : double.IsNegativeInfinity(v) ? "-Infinity"
        : v.ToString("R", CultureInfo.InvariantCulture);

    public static string String(string s) => JsonSerializer.Serialize(s);

    public static string Pair((int, int)? p) => p is { } v ? $"[{v.Item1}, {v.Item2}]" : "null";

    public static string Matrix<T>(T[,] m, Func<T, string> format)
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < m.GetLength(0); i++)
        {
            if (i > 0) sb.Append(", ");
            sb.Append('[');
            for (int j = 0; j < m.GetLength(1); j++)
            {
                if (j > 0) sb.Append(", ");
                sb.Append(format(m[i, j]));
            }
            sb.Append(']');
        }
        return sb.Append(']').ToString();
    }
}
