using System.Text.Json;
using Prh.Alignment.Metrics;

namespace Prh.Client.Analysis;

/// <summary>
/// One metric's models x models matrix as <c>prh sweep analyze</c> reads it: from a finished sweep, or
/// offline from a results.json (<c>prh demo</c>, <c>prh sweep run --json</c>) so no cluster is needed.
/// Entry [i][j] is compute_score(model j, model i), as the sweeps write it.
/// </summary>
internal sealed record ModelMatrix(string Metric, IReadOnlyList<string> Models, IReadOnlyList<IReadOnlyList<double>> Scores)
{
    /// <summary>
    /// The result of <paramref name="metric"/> in a results.json, matched by its key (<c>mutual_knn@10</c>)
    /// or by its name (<c>mutual_knn</c>). The file keeps only name and topk, so two configurations of
    /// one metric (cka with two kernels) look alike there: that is refused rather than one picked.
    /// </summary>
    public static ModelMatrix Read(string path, string metric)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException e)
        {
            throw Bad(path, $"not valid JSON ({e.Message})");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("models", out var modelsElement) || !root.TryGetProperty("results", out var results)
                || modelsElement.ValueKind != JsonValueKind.Array || results.ValueKind != JsonValueKind.Array)
                throw Bad(path, "expected {\"models\": [...], \"results\": [...]}, as prh demo and prh sweep run --json write it");
            var models = modelsElement.EnumerateArray().Select((m, i) =>
                m.ValueKind == JsonValueKind.String ? m.GetString()! : throw Bad(path, $"models[{i}] is not a string")).ToList();
            if (models.GroupBy(m => m, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } repeated)
                throw Bad(path, $"model '{repeated.Key}' is listed {repeated.Count()} times in \"models\"");

            var keys = results.EnumerateArray().Select((r, i) => Key(path, r, i)).ToList();
            var matching = Enumerable.Range(0, keys.Count).Where(i => keys[i] == metric).ToList();
            if (matching.Count == 0) matching = Enumerable.Range(0, keys.Count).Where(i => keys[i].Split('@')[0] == metric).ToList();
            if (matching.Count == 0)
                throw Bad(path, $"no results for metric '{metric}'; it has {string.Join(", ", keys)}");
            if (matching.Count > 1)
                throw Bad(path, $"{matching.Count} results match metric '{metric}' (results[{string.Join("], results[", matching)}]); the file does not tell their options apart");
            int index = matching[0];
            return new ModelMatrix(keys[index], models, ReadScores(path, results[index].GetProperty("scores"), index, models.Count));
        }
    }

    /// <summary>name, then @topk for the knn metrics: the part of <see cref="MetricSpec.Key"/> the file keeps.</summary>
    private static string Key(string path, JsonElement result, int index)
    {
        if (result.ValueKind != JsonValueKind.Object || !result.TryGetProperty("metric", out var name) || name.ValueKind != JsonValueKind.String
            || !result.TryGetProperty("scores", out _))
            throw Bad(path, $"results[{index}] has no \"metric\" name and \"scores\"");
        return result.TryGetProperty("topk", out var topk) && topk.ValueKind == JsonValueKind.Number ? $"{name.GetString()}@{topk.GetRawText()}" : name.GetString()!;
    }

    private static double[][] ReadScores(string path, JsonElement scores, int index, int models)
    {
        if (scores.ValueKind != JsonValueKind.Array || scores.GetArrayLength() != models)
            throw Bad(path, $"results[{index}].scores is not a list of {models} rows, one per model");
        return scores.EnumerateArray().Select((row, i) =>
            row.ValueKind == JsonValueKind.Array && row.GetArrayLength() == models && row.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number)
                ? row.EnumerateArray().Select(v => v.GetDouble()).ToArray()
                : throw Bad(path, $"results[{index}].scores[{i}] is not a list of {models} numbers")).ToArray();
    }

    private static AlignmentException Bad(string path, string problem) => new(ErrorKind.FileError, $"{path}: {problem}");
}
