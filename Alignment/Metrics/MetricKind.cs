namespace Prh.Alignment.Metrics;

/// <summary>The eight metrics of the reference's <c>AlignmentMetrics.SUPPORTED_METRICS</c>.</summary>
public enum MetricKind
{
    MutualKnn,
    CycleKnn,
    LcsKnn,
    EditDistanceKnn,
    Cka,
    UnbiasedCka,
    Cknna,
    Svcca,
}

public static class MetricNames
{
    private static readonly (MetricKind Kind, string Name)[] s_names =
    [
        (MetricKind.MutualKnn, "mutual_knn"),
        (MetricKind.CycleKnn, "cycle_knn"),
        (MetricKind.LcsKnn, "lcs_knn"),
        (MetricKind.EditDistanceKnn, "edit_distance_knn"),
        (MetricKind.Cka, "cka"),
        (MetricKind.UnbiasedCka, "unbiased_cka"),
        (MetricKind.Cknna, "cknna"),
        (MetricKind.Svcca, "svcca"),
    ];

    public static IEnumerable<string> All => s_names.Select(n => n.Name);

    public static string Name(this MetricKind kind) => s_names.First(n => n.Kind == kind).Name;

    public static MetricKind Parse(string name)
    {
        foreach (var (kind, n) in s_names)
            if (n == name) return kind;
        throw new AlignmentException(ErrorKind.ValueError, $"Unrecognized metric: '{name}'; expected one of {string.Join(", ", All)}");
    }

    /// <summary>compute_score passes topk only to metrics whose name contains 'knn' (cknna included).</summary>
    public static bool UsesTopK(this MetricKind kind) => kind.Name().Contains("knn", StringComparison.Ordinal);
}
