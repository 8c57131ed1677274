using System.Text;

namespace Prh.Client.Commands;

/// <summary>A plain aligned text table of scores for the human-readable output.</summary>
internal static class Table
{
    public static string Render(double[,] scores, Func<int, string> rowLabel, Func<int, string> columnLabel, Func<int, int, bool> marked)
    {
        int rows = scores.GetLength(0), columns = scores.GetLength(1);
        var cells = new string[rows + 1, columns + 1];
        cells[0, 0] = "";
        for (int j = 0; j < columns; j++) cells[0, j + 1] = columnLabel(j);
        for (int i = 0; i < rows; i++)
        {
            cells[i + 1, 0] = rowLabel(i);
            for (int j = 0; j < columns; j++) cells[i + 1, j + 1] = scores[i, j].ToString("F4") + (marked(i, j) ? "*" : "");
        }
        var widths = Enumerable.Range(0, columns + 1).Select(j => Enumerable.Range(0, rows + 1).Max(i => cells[i, j].Length)).ToArray();
        var sb = new StringBuilder();
        for (int i = 0; i <= rows; i++)
        {
            for (int j = 0; j <= columns; j++)
                sb.Append(j == 0 ? cells[i, j].PadRight(widths[j]) : "  " + cells[i, j].PadLeft(widths[j]));
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
