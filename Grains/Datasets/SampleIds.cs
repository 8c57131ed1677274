using Prh.Contracts;

namespace Prh.Grains.Datasets;

/// <summary>
/// A dataset's sample ids, one per line, in sample order: what a feature file or a set of inputs says its rows
/// are. Rows that are not the same samples in the same order are the silent way such studies go wrong, so
/// every list given for a dataset is compared with the one it recorded first, and the first difference named.
/// </summary>
public static class SampleIds
{
    /// <summary>The ids of a samples file (blank lines at the end ignored); an id twice or an empty line is refused with its lines.</summary>
    public static IReadOnlyList<string> Parse(string file, string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd('\n').Split('\n');
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Length; i++)
        {
            string id = lines[i].Trim();
            if (id.Length == 0) throw new RefusalException($"{file}: line {i + 1} is empty; a samples file holds one sample id per line");
            if (!seen.TryAdd(id, i + 1)) throw new RefusalException($"{file}: sample id '{id}' appears twice (lines {seen[id]} and {i + 1})");
            lines[i] = id;
        }
        return lines;
    }

    /// <summary>Where <paramref name="given"/> first departs from <paramref name="recorded"/>, in words; null when they are the same list.</summary>
    public static string? Difference(IReadOnlyList<string> recorded, IReadOnlyList<string> given)
    {
        var known = new HashSet<string>(recorded, StringComparer.Ordinal);
        if (given.FirstOrDefault(id => !known.Contains(id)) is { } stranger)
            return $"sample '{stranger}' (row {IndexOf(given, stranger)}) is not one of the dataset's";
        var held = new HashSet<string>(given, StringComparer.Ordinal);
        if (recorded.FirstOrDefault(id => !held.Contains(id)) is { } missing)
            return $"the dataset's sample '{missing}' (row {IndexOf(recorded, missing)}) is missing";
        for (int i = 0; i < recorded.Count; i++)
            if (!string.Equals(recorded[i], given[i], StringComparison.Ordinal))
                return $"row {i} is sample '{given[i]}' where the dataset has '{recorded[i]}' (the same samples in another order)";
        return null;
    }

    private static int IndexOf(IReadOnlyList<string> ids, string id)
    {
        for (int i = 0; i < ids.Count; i++)
            if (ids[i] == id) return i;
        return -1;
    }
}
