using Prh.Contracts.Sweeps;
using ScottPlot;

namespace Prh.Client.Sweeps;

/// <summary>An annotated heatmap of one metric's models x models matrix (ScottPlot, PNG).</summary>
public static class HeatmapPlot
{
    public static void Save(MetricMatrix matrix, string path)
    {
        int m = matrix.Models.Count;
        var values = new double[m, m];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++) values[i, j] = matrix.Scores[i][j];
        var plot = new Plot();
        var heatmap = plot.Add.Heatmap(values);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        plot.Add.ColorBar(heatmap);
        // Row i of the data is drawn at y = m - 1 - i (the first model on top).
        for (int i = 0; i < m; i++)
            for (int j = 0; j < m; j++)
            {
                var label = plot.Add.Text(matrix.Scores[i][j].ToString("F2"), j, m - 1 - i);
                label.LabelStyle.ForeColor = matrix.Scores[i][j] > 0.6 * values.Cast<double>().Max() ? Colors.Black : Colors.White;
                label.LabelAlignment = ScottPlot.Alignment.MiddleCenter;
            }
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, m).Select(j => (double)j).ToArray(), matrix.Models.ToArray());
        plot.Axes.Left.SetTicks(Enumerable.Range(0, m).Select(i => (double)(m - 1 - i)).ToArray(), matrix.Models.ToArray());
        plot.Title($"{matrix.Metric.Key}: compute_score(model j, model i)");
        plot.SavePng(path, 160 + 90 * m, 120 + 70 * m);
    }
}
