using Prh.Contracts.Sweeps;

namespace Prh.Client.Sweeps;

/// <summary>A sweep's status in words, as the console prints it: one place for every line a person reads.</summary>
public static class SweepStatusText
{
    /// <summary>The whole status on one line, as <c>prh sweep status</c> prints it.</summary>
    public static string Describe(SweepStatus s) =>
        $"sweep {s.Id}: {s.Phase.ToString().ToLowerInvariant()}, models {s.ModelsImported}/{s.ModelCount}, metrics {s.MetricsDone}/{s.MetricCount}" +
        (s.Scoring is { LayerPairCount: > 0 } p ? $", tiles {p.TilesDone}/{p.TileCount}, layer pairs {p.LayerPairsDone}/{p.LayerPairCount}" : "") +
        (s.Scoring is { SketchCount: > 0 } k ? $", sketches {k.SketchesDone}/{k.SketchCount}" : "") +
        $", layer pairs scored {s.LayerPairsScored}" + (s.Paused is { } paused ? $"; PAUSED {Pause(paused)}" : "") +
        (s.Extractions.Count > 0 ? $"; extraction: {string.Join("; ", s.Extractions.Select(Extraction))}" : "") +
        (Errors(s).ToList() is { Count: > 0 } errors ? $"; errors: {string.Join("; ", errors)}" : "") +
        (s.Recoveries.Count > 0 ? $"; recovered: {string.Join("; ", s.Recoveries.Select(Recovery))}" : "") + (s.TraceId is { } t ? $"; trace {t}" : "");

    /// <summary>What a person should read once, above a progress bar: pauses, errors, recoveries, extraction.</summary>
    public static IEnumerable<string> Notes(SweepStatus s) =>
        (s.Paused is { } p ? [$"PAUSED {Pause(p)}"] : Array.Empty<string>())
            .Concat(Errors(s).Select(e => $"error: {e}"))
            .Concat(s.Recoveries.Select(r => $"recovered: {Recovery(r)}"))
            .Concat(s.Extractions.Select(e => $"extraction: {Extraction(e)}"));

    /// <summary>Each model left out and why, then why the sweep failed.</summary>
    public static IEnumerable<string> Errors(SweepStatus s) =>
        s.ModelErrors.Select(e => $"model '{e.Model}': {e.Message}").Concat(s.Failure is { } failure ? [failure] : Array.Empty<string>());

    public static string Extraction(ModelExtraction e) => $"{e.Model}: {e.ShardsDone}/{e.ShardCount} shards" +
        (e.Sites.Count > 0 ? $" on {string.Join(", ", e.Sites.Select(site => $"{site.Provider}@{site.Silo}").Order(StringComparer.Ordinal))}" : "");

    public static string Pause(SweepPause p) => $"since {p.Since:HH:mm:ss}Z: {p.Reason}";

    public static string Recovery(Recovery r) => $"model '{r.Model}': stored features {r.Lost} were missing or corrupt; recomputed from {r.Source}";
}
