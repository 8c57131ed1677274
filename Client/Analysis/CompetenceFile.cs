using System.Globalization;
using Prh.Alignment.Metrics;

namespace Prh.Client.Analysis;

/// <summary>
/// The competence CSV of <c>prh sweep analyze</c>: one line per model, <c>model id, score</c> (a task
/// score, an accuracy: any number where more is better), blank lines skipped, and a header line
/// allowed first. Every model of the matrix needs a score and every line must name one of them, so
/// a typo in an id is reported instead of silently shrinking the analysis.
/// </summary>
internal static class CompetenceFile
{
    /// <summary>The models' scores, in the order of <paramref name="models"/>. Errors name the file and the line.</summary>
    public static double[] Read(string path, IReadOnlyList<string> models)
    {
        var index = models.Select((m, i) => (m, i)).ToDictionary(p => p.m, p => p.i, StringComparer.Ordinal);
        var scores = new double[models.Count];
        var seenOn = new int[models.Count]; // the line a model's score came from; 0 for none yet
        string[] lines = File.ReadAllLines(path);
        int first = Array.FindIndex(lines, l => !string.IsNullOrWhiteSpace(l)) + 1;
        for (int n = 1; n <= lines.Length; n++)
        {
            string line = lines[n - 1];
            if (string.IsNullOrWhiteSpace(line)) continue;
            string[] fields = line.Split(',').Select(Unquote).ToArray();
            if (fields.Length != 2)
                throw Bad(path, n, $"expected 'model id, score', got '{line}'");
            var (id, text) = (fields[0], fields[1]);
            bool isNumber = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double score);
            // The first line is a header when it names no model and holds no number ("model,score").
            if (n == first && !isNumber && !index.ContainsKey(id)) continue;
            if (!index.TryGetValue(id, out int model))
                throw Bad(path, n, $"model '{id}' is not in the matrix; its models are {string.Join(", ", models)}");
            if (!isNumber || !double.IsFinite(score))
                throw Bad(path, n, $"the score '{text}' of model '{id}' is not a finite number");
            if (seenOn[model] != 0)
                throw Bad(path, n, $"model '{id}' has a score already, on line {seenOn[model]}");
            scores[model] = score;
            seenOn[model] = n;
        }
        var missing = models.Where((_, i) => seenOn[i] == 0).ToList();
        if (missing.Count > 0)
            throw new AlignmentException(ErrorKind.FileError, $"{path}: no score for {(missing.Count == 1 ? "model" : "models")} {string.Join(", ", missing)} of the matrix");
        return scores;
    }

    /// <summary>Spreadsheets quote fields; model ids hold no commas or quotes, so stripping one pair of quotes is enough.</summary>
    private static string Unquote(string field)
    {
        string trimmed = field.Trim();
        return trimmed.Length >= 2 && trimmed[0] == '"' && trimmed[^1] == '"' ? trimmed[1..^1].Trim() : trimmed;
    }

    private static AlignmentException Bad(string path, int line, string problem) => new(ErrorKind.FileError, $"{path}:{line}: {problem}");
}
