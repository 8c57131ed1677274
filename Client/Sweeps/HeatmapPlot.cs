using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;
using ScottPlot;

namespace Prh.Client.Sweeps;

/// <summary>
/// Heatmaps (ScottPlot, PNG): one metric's models x models matrix (a calibrated sweep's entries that Benjamini-Hochberg
/// does not find significant marked "n.s."), or one model pair's layer x layer matrix.
/// </summary>
public static class HeatmapPlot
{
    public static void Save(MetricMatrix matrix, MatrixView view, string path)
    {
        string what = view == MatrixView.Scores ? "" : $" {SweepResults.Name(view)}";
        string title = $"{matrix.Metric.Key}{what}: compute_score(model j, model i)"
            + (matrix.Calibration is { } c ? $"\nn.s.: not significant (Benjamini-Hochberg, q = {c.Settings.Fdr.ToString(System.Globalization.CultureInfo.InvariantCulture)})" : "");
        Save(SweepResults.Values(matrix, view), matrix.Models, matrix.Models, title, path, matrix.Calibration is { } m ? (i, j) => !m.Significant[i, j] : null);
    }

    public static void Save(PairMatrix pair, string path) =>
        Save(pair.Scores, Enumerable.Range(0, pair.Scores.Length).Select(i => $"{pair.First}[{i}]").ToList(),
            Enumerable.Range(0, pair.Scores[0].Length).Select(j => $"{pair.Second}[{j}]").ToList(),
            $"{pair.Metric.Key}: compute_score({pair.First}, {pair.Second})" + (pair.BestIndices is { } b ? $", best ({b[0]}, {b[1]})" : ""), path);

    /// <summary>Rows top to bottom, columns left to right; cells annotated with their value when there are few enough to read.</summary>
    private static void Save(double[][] scores, IReadOnlyList<string> rows, IReadOnlyList<string> columns, string title, string path,
        Func<int, int, bool>? notSignificant = null)
    {
        int m = rows.Count, n = columns.Count;
        var values = new double[m, n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) values[i, j] = scores[i][j];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        double max = values.Cast<double>().Where(double.IsFinite).DefaultIfEmpty(1).Max();
        bool annotated = m <= 16 && n <= 16;
        // Row i of the data is drawn at y = m - 1 - i (the first row on top).
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                bool marked = notSignificant?.Invoke(i, j) == true;
                if (!annotated && !marked) continue;
                string text = (annotated ? (double.IsNaN(scores[i][j]) ? "" : scores[i][j].ToString("F2")) : "") + (marked ? (annotated ? "\nn.s." : "×") : "");
                var label = plot.Add.Text(text, j, m - 1 - i);
                label.LabelStyle.ForeColor = scores[i][j] > 0.6 * max ? Colors.Black : Colors.White;
                label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
            }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(j => (double)j).ToArray(), columns.ToArray());
        // Column names run into each other under narrow cells: slanted, with the axis made tall enough for the longest.
        plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
        plot.Axes.Bottom.TickLabelStyle.Alignment = ScottPlot.Alignment.MiddleLeft;
        plot.Axes.Bottom.MinimumSize = 20 + 6 * columns.Max(c => c.Length);
        plot.Axes.Left.SetTicks(Enumerable.Range(0, m).Select(i => (double)(m - 1 - i)).ToArray(), rows.ToArray());
        plot.Title(title);
        int cell = m <= 16 && n <= 16 ? 80 : 30;
        plot.SavePng(path, 220 + cell * n, 160 + 6 * columns.Max(c => c.Length) + cell * m);
    }
}
