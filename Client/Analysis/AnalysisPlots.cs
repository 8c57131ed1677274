using ScottPlot;

namespace Prh.Client.Analysis;

/// <summary>The report's figures (ScottPlot, PNG), drawn after the paper's Fig. 2 and Fig. 3.</summary>
internal static class AnalysisPlots
{
    /// <summary>Mean within-bucket alignment per competence bucket, with standard-error bars.</summary>
    public static void Buckets(AnalysisReport report, string path)
    {
        var plot = new Plot();
        var colormap = new ScottPlot.Colormaps.Viridis();
        var bars = report.Buckets.Select(b => new Bar
        {
            Position = b.Index,
            Value = b.Mean,
            // A bucket of one pair has no standard error; its bar is drawn without one.
            Error = double.IsFinite(b.StandardError) ? b.StandardError : 0,
            FillColor = colormap.GetColor(report.Buckets.Count == 1 ? 0.5 : (double)b.Index / (report.Buckets.Count - 1)),
        }).ToList();
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(report.Buckets.Select(b => (double)b.Index).ToArray(),
            report.Buckets.Select(b => $"{b.CompetenceMin:G4}..{b.CompetenceMax:G4}\n({b.Models.Count} models)").ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.XLabel("competence bucket");
        plot.YLabel($"mean {report.Matrix.Metric} within bucket");
        plot.Title($"{report.Matrix.Metric} within competence buckets");
        plot.SavePng(path, Math.Max(600, 220 + 110 * report.Buckets.Count), 480);
    }

    /// <summary>The models at their MDS coordinates, coloured by competence, labelled with their ids.</summary>
    public static void Map(AnalysisReport report, string path)
    {
        var plot = new Plot();
        var axis = new CompetenceAxis(report.Competence);
        for (int i = 0; i < report.Matrix.Models.Count; i++)
        {
            double x = report.Map.Coordinates[i][0], y = report.Map.Coordinates[i][1];
            plot.Add.Marker(x, y, MarkerShape.FilledCircle, 12, axis.Color(report.Competence[i]));
            var label = plot.Add.Text(report.Matrix.Models[i], x, y);
            label.LabelOffsetX = 8;
            label.LabelFontSize = 11;
        }
        plot.Add.ColorBar(axis, Edge.Right).Label = "competence";
        // Room on the right for the labels, which start at their points.
        plot.Axes.Margins(left: 0.05, right: 0.3, bottom: 0.1, top: 0.1);
        plot.Axes.SquareUnits();
        plot.XLabel("MDS axis 1");
        plot.YLabel("MDS axis 2");
        plot.Title($"{report.Matrix.Metric}: classical MDS of 1 - alignment");
        plot.SavePng(path, 720, 600);
    }

    /// <summary>Each model's alignment with the reference against its competence, with the correlations in the title.</summary>
    public static void Reference(AnalysisReport report, ReferenceCorrelation reference, string path)
    {
        var plot = new Plot();
        var models = reference.Points.Models;
        var xs = models.Select(i => report.Competence[i]).ToArray();
        var ys = reference.Points.Alignment.ToArray();
        plot.Add.Markers(xs, ys, MarkerShape.FilledCircle, 10, Colors.SteelBlue);
        for (int k = 0; k < models.Count; k++)
        {
            var label = plot.Add.Text(report.Matrix.Models[models[k]], xs[k], ys[k]);
            label.LabelOffsetX = 8;
            label.LabelFontSize = 11;
        }
        plot.Axes.Margins(left: 0.05, right: 0.25, bottom: 0.1, top: 0.1);
        string group = string.Join(", ", reference.Group.Select(g => report.Matrix.Models[g]));
        plot.XLabel("competence");
        plot.YLabel($"{report.Matrix.Metric} with {(reference.Group.Count == 1 ? group : "the group's mean")}");
        plot.Title($"alignment with {group}\n" +
            $"Spearman {reference.Spearman.Estimate:F3} [{reference.Spearman.Lower:F3}, {reference.Spearman.Upper:F3}], " +
            $"Pearson {reference.Pearson.Estimate:F3} [{reference.Pearson.Lower:F3}, {reference.Pearson.Upper:F3}] ({reference.Spearman.Level * 100:0.#}% bootstrap)");
        plot.SavePng(path, 800, 600);
    }
}
