using System.Text;
using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Client.Commands;
using Prh.Contracts;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Sweeps;

/// <summary>What of a metric's matrix is shown: the scores, or for a calibrated sweep the calibrated scores, the p-values, or the scores BH finds significant.</summary>
public enum MatrixView
{
    Scores,
    Calibrated,
    PValues,
    Significant,
}

/// <summary>How sweep matrices are printed: JSON (the contract), CSV, or a readable table.</summary>
public static class SweepResults
{
    /// <summary>
    /// The view's values: the scores; the calibrated scores; the p-values; or the observed scores Benjamini-Hochberg
    /// finds significant, NaN (null in JSON, empty in CSV) where it does not. The calibrated views need a calibrated sweep.
    /// </summary>
    public static double[][] Values(MetricMatrix m, MatrixView view)
    {
        if (view == MatrixView.Scores) return m.Scores;
        var c = m.Calibration ?? throw new RefusalException(
            $"{m.Metric.Key}: the sweep was not calibrated, so it has no {Name(view)}; give its spec a calibration block (calibration: {{permutations: 200}})");
        return Enumerable.Range(0, m.Models.Count).Select(i => Enumerable.Range(0, m.Models.Count).Select(j => view switch
        {
            MatrixView.Calibrated => c.Tests[i, j].Calibrated,
            MatrixView.PValues => c.Tests[i, j].PValue,
            _ => c.Significant[i, j] ? m.Scores[i][j] : double.NaN,
        }).ToArray()).ToArray();
    }

    /// <summary>The view's name in JSON and titles: scores, calibrated, p_values, significant.</summary>
    public static string Name(MatrixView view) => view switch
    {
        MatrixView.Scores => "scores",
        MatrixView.Calibrated => "calibrated",
        MatrixView.PValues => "p_values",
        _ => "significant",
    };

    /// <summary>{"models": [...], "results": [{"metric", "topk", "scores", "indices"}, ...]}</summary>
    public static string Json(IReadOnlyList<string> models, IReadOnlyList<MetricMatrix> results) => Commands.Json.Document(w =>
    {
        w.WriteStartObject();
        w.WriteStrings("models", models);
        w.WriteArray("results", results, Write);
        w.WriteEndObject();
    });

    /// <summary>One metric: {"metric", "topk", "scores", "indices", and a calibrated sweep's "calibration"}, or a calibrated view's {"metric", "topk", "models", view}.</summary>
    public static string MatrixJson(MetricMatrix m, MatrixView view = MatrixView.Scores) => Commands.Json.Document(w =>
    {
        if (view == MatrixView.Scores)
        {
            Write(w, m);
            return;
        }
        var values = Values(m, view);
        w.WriteStartObject();
        WriteMetric(w, m.Metric);
        w.WriteStrings("models", m.Models);
        w.WriteMatrix(Name(view), values, view == MatrixView.Significant
            ? (writer, v) => { if (double.IsNaN(v)) writer.WriteNullValue(); else writer.WriteNumberValue(v); }
        : Commands.Json.WriteDoubleValue);
        w.WriteEndObject();
    });

    private static void Write(Utf8JsonWriter w, MetricMatrix m)
    {
        w.WriteStartObject();
        WriteMetric(w, m.Metric);
        w.WriteMatrix("scores", m.Scores, Commands.Json.WriteDoubleValue);
        w.WriteMatrix("indices", m.Indices, (w, p) => w.WritePairValue(p is null ? null : (p[0], p[1])));
        if (m.Calibration is { } c) CalibrationOutput.WriteMatrix(w, c);
        w.WriteEndObject();
    }

    /// <summary>"metric" and "topk", the keyword compute_score passes (to the knn metrics only, 10 unless given).</summary>
    private static void WriteMetric(Utf8JsonWriter w, MetricSpec metric)
    {
        w.WriteString("metric", metric.Name);
        if (metric.Name.Contains("knn")) w.WriteNumber("topk", metric.TopK ?? 10);
        else w.WriteNull("topk");
    }

    public static string Csv(MetricMatrix m, MatrixView view = MatrixView.Scores)
    {
        var values = Values(m, view);
        var sb = new StringBuilder("model,").AppendLine(string.Join(",", m.Models));
        for (int i = 0; i < m.Models.Count; i++)
            sb.Append(m.Models[i]).Append(',').AppendLine(string.Join(",", values[i].Select(v => double.IsNaN(v) && view == MatrixView.Significant ? "" : Commands.Json.Number(v))));
        return sb.ToString();
    }

    /// <summary>
    /// The view as a table. A calibrated sweep's scores come with every statistic's table, BH's significant entries marked *,
    /// and the family-wise result; a calibrated view marks BH's significant entries *.
    /// </summary>
    public static string Table(MetricMatrix m, MatrixView view = MatrixView.Scores)
    {
        var values = Values(m, view);
        var grid = new double[m.Models.Count, m.Models.Count];
        for (int i = 0; i < m.Models.Count; i++)
            for (int j = 0; j < m.Models.Count; j++) grid[i, j] = values[i][j];
        var c = m.Calibration;
        string title = view == MatrixView.Scores ? m.Metric.Key : $"{m.Metric.Key} {Name(view)}, calibrated by {c!.Settings.Describe()}; * marks the entries " +
            $"Benjamini-Hochberg at q = {Commands.Json.Number(c.Settings.Fdr)} finds significant";
        string text = $"{title}\n" + Commands.Table.Render(grid, i => m.Models[i], j => m.Models[j], (i, j) => view != MatrixView.Scores && c!.Significant[i, j]);
        if (view != MatrixView.Scores || c is null) return text;
        var details = new StringWriter();
        CalibrationOutput.PrintMatrix(details, c, i => m.Models[i], j => m.Models[j]);
        return text + details;
    }

    /// <summary>{"metric", "topk", "first", "second", "scores" (rows: the first model's layers), "best_score", "best_indices"}</summary>
    public static string Json(PairMatrix p) => Commands.Json.Document(w =>
    {
        w.WriteStartObject();
        WriteMetric(w, p.Metric);
        w.WriteString("first", p.First);
        w.WriteString("second", p.Second);
        w.WriteMatrix("scores", p.Scores, Commands.Json.WriteDoubleValue);
        w.WriteDouble("best_score", p.BestScore);
        w.WritePropertyName("best_indices");
        w.WritePairValue(p.BestIndices is { } b ? (b[0], b[1]) : null);
        w.WriteEndObject();
    });

    /// <summary>One row per layer of the first model: "layer", then one column per layer of the second.</summary>
    public static string Csv(PairMatrix p)
    {
        var sb = new StringBuilder("layer,").AppendLine(string.Join(",", Enumerable.Range(0, p.Scores[0].Length)));
        for (int i = 0; i < p.Scores.Length; i++)
            sb.Append(i).Append(',').AppendLine(string.Join(",", p.Scores[i].Select(Commands.Json.Number)));
        return sb.ToString();
    }

    public static string Table(PairMatrix p)
    {
        var scores = new double[p.Scores.Length, p.Scores[0].Length];
        for (int i = 0; i < p.Scores.Length; i++)
            for (int j = 0; j < p.Scores[0].Length; j++) scores[i, j] = p.Scores[i][j];
        string best = p.BestIndices is { } b ? $"best {Commands.Json.Number(p.BestScore)} at ({b[0]}, {b[1]}), marked *" : "no layer pair scored above 0";
        return $"{p.Metric.Key}: compute_score({p.First}, {p.Second}); rows: layers of {p.First}, columns: layers of {p.Second}; {best}\n" +
            Commands.Table.Render(scores, i => $"{p.First}[{i}]", j => j.ToString(), (i, j) => p.BestIndices is { } x && x[0] == i && x[1] == j);
    }
}
