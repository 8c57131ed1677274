using System.Text;
using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Client.Commands;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Sweeps;

/// <summary>How sweep matrices are printed: JSON (the contract), CSV, or a readable table.</summary>
public static class SweepResults
{
    /// <summary>{"models": [...], "results": [{"metric", "topk", "scores", "indices"}, ...]}</summary>
    public static string Json(IReadOnlyList<string> models, IReadOnlyList<MetricMatrix> results) => Commands.Json.Document(w =>
    {
        w.WriteStartObject();
        w.WriteStrings("models", models);
        w.WriteArray("results", results, Write);
        w.WriteEndObject();
    });

    public static string MatrixJson(MetricMatrix m) => Commands.Json.Document(w => Write(w, m));

    private static void Write(Utf8JsonWriter w, MetricMatrix m)
    {
        w.WriteStartObject();
        WriteMetric(w, m.Metric);
        w.WriteMatrix("scores", m.Scores, Commands.Json.WriteDoubleValue);
        w.WriteMatrix("indices", m.Indices, (w, p) => w.WritePairValue(p is null ? null : (p[0], p[1])));
        w.WriteEndObject();
    }

    /// <summary>"metric" and "topk", the keyword compute_score passes (to the knn metrics only, 10 unless given).</summary>
    private static void WriteMetric(Utf8JsonWriter w, MetricSpec metric)
    {
        w.WriteString("metric", metric.Name);
        if (metric.Name.Contains("knn")) w.WriteNumber("topk", metric.TopK ?? 10);
        else w.WriteNull("topk");
    }

    public static string Csv(MetricMatrix m)
    {
        var sb = new StringBuilder("model,").AppendLine(string.Join(",", m.Models));
        for (int i = 0; i < m.Models.Count; i++)
            sb.Append(m.Models[i]).Append(',').AppendLine(string.Join(",", m.Scores[i].Select(Commands.Json.Number)));
        return sb.ToString();
    }

    public static string Table(MetricMatrix m)
    {
        var scores = new double[m.Models.Count, m.Models.Count];
        for (int i = 0; i < m.Models.Count; i++)
            for (int j = 0; j < m.Models.Count; j++) scores[i, j] = m.Scores[i][j];
        return $"{m.Metric.Key}\n" + Commands.Table.Render(scores, i => m.Models[i], j => m.Models[j], (_, _) => false);
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
