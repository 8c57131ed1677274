using System.Globalization;
using System.Text;
using System.Text.Json;
using Prh.Alignment.Analysis;
using Prh.Client.Commands;

namespace Prh.Client.Analysis;

/// <summary>How <c>prh sweep analyze</c> prints its report: one JSON document, or readable tables.</summary>
internal static class AnalysisOutput
{
    /// <summary>
    /// {"metric", "models": [{"id", "competence"}], "buckets": [...], "map": {"eigenvalues", "coordinates"},
    /// "reference": null or {"group", "models", "spearman", "pearson", "bootstrap"}, "files"}. A statistic
    /// that is not defined (the standard error of one pair, a correlation with constant competence) is
    /// null: strict JSON, where the matrices' NaN follows the reference's Python output.
    /// </summary>
    public static string Json(AnalysisReport report, IReadOnlyList<string> files) => Commands.Json.Document(w =>
    {
        var models = report.Matrix.Models;
        w.WriteStartObject();
        w.WriteString("metric", report.Matrix.Metric);
        w.WriteArray("models", Enumerable.Range(0, models.Count), (w, i) =>
        {
            w.WriteStartObject();
            w.WriteString("id", models[i]);
            w.WriteDouble("competence", report.Competence[i]);
            w.WriteEndObject();
        });
        w.WriteArray("buckets", report.Buckets, (w, b) =>
        {
            w.WriteStartObject();
            w.WriteNumber("bucket", b.Index + 1);
            w.WriteStrings("models", b.Models.Select(i => models[i]));
            w.WriteDouble("competence_min", b.CompetenceMin);
            w.WriteDouble("competence_max", b.CompetenceMax);
            w.WriteNumber("pairs", b.Pairs);
            w.WriteDouble("mean", b.Mean);
            WriteDefined(w, "standard_error", b.StandardError);
            w.WriteEndObject();
        });
        w.WriteStartObject("map");
        w.WriteArray("eigenvalues", report.Map.Eigenvalues, Commands.Json.WriteDoubleValue);
        w.WriteArray("coordinates", Enumerable.Range(0, models.Count), (w, i) =>
        {
            w.WriteStartObject();
            w.WriteString("id", models[i]);
            w.WriteDouble("x", report.Map.Coordinates[i][0]);
            w.WriteDouble("y", report.Map.Coordinates[i][1]);
            w.WriteEndObject();
        });
        w.WriteEndObject();
        if (report.Reference is { } r)
        {
            w.WriteStartObject("reference");
            w.WriteStrings("group", r.Group.Select(g => models[g]));
            w.WriteArray("models", Enumerable.Range(0, r.Points.Models.Count), (w, k) =>
            {
                w.WriteStartObject();
                w.WriteString("id", models[r.Points.Models[k]]);
                w.WriteDouble("competence", report.Competence[r.Points.Models[k]]);
                w.WriteDouble("alignment", r.Points.Alignment[k]);
                w.WriteEndObject();
            });
            WriteInterval(w, "spearman", r.Spearman);
            WriteInterval(w, "pearson", r.Pearson);
            w.WriteStartObject("bootstrap");
            w.WriteNumber("resamples", r.Spearman.Resamples);
            w.WriteNumber("level", r.Spearman.Level);
            w.WriteNumber("seed", r.Seed);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        else w.WriteNull("reference");
        w.WriteStrings("files", files);
        w.WriteEndObject();
    });

    /// <summary>{"estimate", "lower", "upper", "defined"}: "defined" counts the resamples where the statistic was.</summary>
    private static void WriteInterval(Utf8JsonWriter w, string name, BootstrapInterval interval)
    {
        w.WriteStartObject(name);
        WriteDefined(w, "estimate", interval.Estimate);
        WriteDefined(w, "lower", interval.Lower);
        WriteDefined(w, "upper", interval.Upper);
        w.WriteNumber("defined", interval.Used);
        w.WriteEndObject();
    }

    private static void WriteDefined(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    public static string Text(AnalysisReport report, string competenceSource, IReadOnlyList<string> files)
    {
        var models = report.Matrix.Models;
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"{report.Matrix.Metric}: {models.Count} models, competence from {competenceSource}");

        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Alignment within competence buckets (Fig. 2 left): {report.Buckets.Count} quantile buckets, mean over each bucket's pairs ± standard error");
        sb.Append(Rows(["bucket", "competence", "pairs", "mean", "s.e.", "models"], report.Buckets.Select(b => new[]
        {
            (b.Index + 1).ToString(CultureInfo.InvariantCulture), $"{G(b.CompetenceMin)} .. {G(b.CompetenceMax)}",
            b.Pairs.ToString(CultureInfo.InvariantCulture), F(b.Mean), F(b.StandardError), string.Join(" ", b.Models.Select(i => models[i])),
        })));

        sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
            $"Map of the models (Fig. 2 right): classical MDS of 1 - alignment, eigenvalues {F(report.Map.Eigenvalues[0])}, {F(report.Map.Eigenvalues[1])}");
        sb.Append(Rows(["model", "competence", "x", "y"], Enumerable.Range(0, models.Count).Select(i => new[]
            { models[i], G(report.Competence[i]), F(report.Map.Coordinates[i][0]), F(report.Map.Coordinates[i][1]) })));

        if (report.Reference is { } r)
        {
            string group = string.Join(", ", r.Group.Select(g => models[g]));
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"Alignment with {(r.Group.Count == 1 ? group : $"the mean of {group}")} against competence (Fig. 3)");
            sb.Append(Rows(["model", "competence", "alignment"], Enumerable.Range(0, r.Points.Models.Count).Select(k => new[]
                { models[r.Points.Models[k]], G(report.Competence[r.Points.Models[k]]), F(r.Points.Alignment[k]) })));
            sb.AppendLine().AppendLine(CultureInfo.InvariantCulture,
                $"correlations, {r.Spearman.Level * 100:0.#}% percentile bootstrap intervals over {r.Spearman.Resamples} resamples of the models (seed {r.Seed}):");
            sb.Append(Rows(["", "estimate", "interval", "resamples defined"],
            [
                ["spearman", F(r.Spearman.Estimate), $"[{F(r.Spearman.Lower)}, {F(r.Spearman.Upper)}]", r.Spearman.Used.ToString(CultureInfo.InvariantCulture)],
                ["pearson", F(r.Pearson.Estimate), $"[{F(r.Pearson.Lower)}, {F(r.Pearson.Upper)}]", r.Pearson.Used.ToString(CultureInfo.InvariantCulture)],
            ]));
        }
        sb.AppendLine();
        foreach (string file in files) sb.AppendLine(CultureInfo.InvariantCulture, $"wrote {file}");
        return sb.ToString();
    }

    /// <summary>Scores and coordinates to four decimals; "-" for a statistic that is not defined, as null in the JSON.</summary>
    private static string F(double v) => double.IsFinite(v) ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";

    /// <summary>Competence as given (widths, accuracies): its own digits, at most six.</summary>
    private static string G(double v) => v.ToString("G6", CultureInfo.InvariantCulture);

    /// <summary>Left-aligned columns two spaces apart, the header first.</summary>
    private static string Rows(string[] header, IEnumerable<string[]> rows)
    {
        var all = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var row in all)
            sb.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        return sb.ToString();
    }
}
