using System.Text;
using Prh.Client.Commands;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Sweeps;

/// <summary>How sweep matrices are printed: JSON (the contract), CSV, or a readable table.</summary>
public static class SweepResults
{
    /// <summary>{"models": [...], "results": [{"metric", "topk", "scores", "indices"}, ...]}</summary>
    public static string Json(IReadOnlyList<string> models, IReadOnlyList<MetricMatrix> results)
    {
        var sb = new StringBuilder();
        sb.Append("{\"models\": [").Append(string.Join(", ", models.Select(Commands.Json.String))).Append("], \"results\": [");
        sb.Append(string.Join(", ", results.Select(MatrixJson)));
        return sb.Append("]}").ToString();
    }

    public static string MatrixJson(MetricMatrix m) =>
        $"{{\"metric\": {Commands.Json.String(m.Metric.Name)}, \"topk\": {(m.Metric.Name.Contains("knn") ? (m.Metric.TopK ?? 10).ToString() : "null")}, " +
        $"\"scores\": [{string.Join(", ", m.Scores.Select(r => "[" + string.Join(", ", r.Select(Commands.Json.Number)) + "]"))}], " +
        $"\"indices\": [{string.Join(", ", m.Indices.Select(r => "[" + string.Join(", ", r.Select(p => p is null ? "null" : $"[{p[0]}, {p[1]}]")) + "]"))}]}}";

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
    public static string Json(PairMatrix p) =>
        $"{{\"metric\": {Commands.Json.String(p.Metric.Name)}, \"topk\": {(p.Metric.Name.Contains("knn") ? (p.Metric.TopK ?? 10).ToString() : "null")}, " +
        $"\"first\": {Commands.Json.String(p.First)}, \"second\": {Commands.Json.String(p.Second)}, " +
        $"\"scores\": [{string.Join(", ", p.Scores.Select(r => "[" + string.Join(", ", r.Select(Commands.Json.Number)) + "]"))}], " +
        $"\"best_score\": {Commands.Json.Number(p.BestScore)}, \"best_indices\": {(p.BestIndices is { } b ? $"[{b[0]}, {b[1]}]" : "null")}}}";

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
