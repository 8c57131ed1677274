using System.Text.RegularExpressions;

namespace Prh.Extraction.Datasets;

/// <summary>
/// The one rule for names that become grain keys, store names and file names: sweep, dataset and model
/// ids, and a dataset's sample ids. Here, below the grains, so the dataset builder applies it too.
/// </summary>
public static partial class SafeName
{
    /// <summary>Letters, digits, '.', '_' and '-', starting with a letter or digit, at most 128, no "..".</summary>
    public const string Rule = "letters, digits, '.', '_', '-'; at most 128";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex Pattern();

    public static bool IsSafe(string? name) => name is not null && Pattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);
}
