using System.Collections.Concurrent;
using System.Text.Json;
using Prh.Alignment.Calibration;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.Calibration;

/// <summary>
/// The calibration fixtures (../shared/fixtures/calibration beside the checkout, or PRH_CALIBRATION_FIXTURES),
/// made from Aristotelian's own code. Tests iterate the manifest; no expected number is copied into the tests.
/// </summary>
public static class CalibrationFixtures
{
    private static readonly Lazy<string> s_directory = new(Locate);
    private static readonly Lazy<JsonElement> s_manifest = new(() =>
        JsonDocument.Parse(System.IO.File.ReadAllText(Path.Combine(Directory, "manifest.json"))).RootElement);
    private static readonly ConcurrentDictionary<string, Lazy<ModelSketch>> s_sketches = new();
    private static readonly ConcurrentDictionary<string, Lazy<SamplePermutations>> s_permutations = new();
    private static readonly ConcurrentDictionary<string, Lazy<Tensor>> s_arrays = new();

    public static string Directory => s_directory.Value;
    public static JsonElement Manifest => s_manifest.Value;

    public static IEnumerable<JsonElement> Cases => Manifest.GetProperty("cases").EnumerateArray();

    public static JsonElement Case(string name) => Cases.Single(c => c.GetProperty("name").GetString() == name);

    /// <summary>Every (case, metric) of the manifest, for theories.</summary>
    public static IEnumerable<object[]> CaseMetrics() =>
        Cases.SelectMany(c => c.GetProperty("metrics").EnumerateObject().Select(m => new object[] { c.GetProperty("name").GetString()!, m.Name }));

    /// <summary>
    /// The engine's metric for a fixture metric (k from the case): mutual_knn, cka_linear as cka (the same quantity,
    /// features centred or Grams double-centred), cka_unbiased as unbiased_cka, cknna (unbiased).
    /// </summary>
    public static MetricSpec Spec(JsonElement c, string metric)
    {
        int k = c.GetProperty("topk").GetInt32();
        return MetricSpec.Parse(metric switch
        {
            "mutual_knn" => $"mutual_knn@{k}",
            "cka_linear" => "cka",
            "cka_unbiased" => "unbiased_cka",
            "cknna" => $"cknna@{k}",
            _ => throw new ArgumentException($"no engine metric for fixture metric {metric}"),
        });
    }

    /// <summary>A (L, N, D) float32 file's layers, used as given (rows already unit norm: no clamp, no normalisation).</summary>
    public static ModelSketch Sketch(string relative) => s_sketches.GetOrAdd(relative, r => new Lazy<ModelSketch>(() =>
    {
        var tensor = Array(r);
        int layers = tensor.Shape[0], n = tensor.Shape[1], d = tensor.Shape[2];
        var features = Enumerable.Range(0, layers).Select(l => new LayerFeatures(n, d, tensor.Values.AsSpan(l * n * d, n * d).ToArray())).ToArray();
        return new ModelSketch(new ModelFeatures(r, features));
    })).Value;

    public static SamplePermutations Permutations(JsonElement c) => s_permutations.GetOrAdd(File(c, "perms"),
        r => new Lazy<SamplePermutations>(() => SamplePermutations.Load(Path.Combine(Directory, r)))).Value;

    public static Tensor Array(string relative) =>
        s_arrays.GetOrAdd(relative, r => new Lazy<Tensor>(() => NpyFile.Read(Path.Combine(Directory, r)))).Value;

    public static string File(JsonElement c, string key) => c.GetProperty("files").GetProperty(key).GetString()!;

    /// <summary>A case's (K, LA, LB) null array of a metric: calib_null_pairs (features permuted) or registry_null_pairs (the optimised routine).</summary>
    public static double[] Nulls(JsonElement c, string metric, string kind) => Array($"{c.GetProperty("name").GetString()}/{metric}/{kind}.npy").Values;

    /// <summary>Draw k's LA x LB matrix of a (K, LA, LB) null array.</summary>
    public static ReadOnlySpan<double> Draw(double[] nulls, int k, int cells) => nulls.AsSpan(k * cells, cells);

    /// <summary>S_obs row-major.</summary>
    public static double[] Observed(JsonElement metric) =>
        metric.GetProperty("S_obs").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

    public static double Number(JsonElement e, string name) => e.GetProperty(name).GetDouble();

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("PRH_CALIBRATION_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv))
            return System.IO.File.Exists(Path.Combine(fromEnv, "manifest.json"))
                ? fromEnv
                : throw new DirectoryNotFoundException($"PRH_CALIBRATION_FIXTURES={fromEnv} has no manifest.json");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "calibration");
            if (System.IO.File.Exists(Path.Combine(candidate, "manifest.json"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"no shared/fixtures/calibration/manifest.json above {AppContext.BaseDirectory}; set PRH_CALIBRATION_FIXTURES");
    }
}
