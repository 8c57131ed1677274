using System.Text;
using Prh.Client.Commands;
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
}
