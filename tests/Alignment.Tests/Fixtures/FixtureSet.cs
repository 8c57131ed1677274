using System.Text.Json;
using Prh.Alignment.Features;
using Prh.Alignment.IO;

namespace Prh.Alignment.Tests.Fixtures;

/// <summary>
/// The reference fixtures (../shared/fixtures/alignment beside the checkout, or PRH_FIXTURES).
/// Tests iterate its manifest; no expected number is copied into the tests.
/// </summary>
public static class FixtureSet
{
    private static readonly Lazy<string> s_directory = new(Locate);
    private static readonly Lazy<JsonElement> s_manifest = new(() =>
        JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(Directory, "manifest.json"))).RootElement);

    public static string Directory => s_directory.Value;
    public static JsonElement Manifest => s_manifest.Value;

    /// <summary>The clamp quantile the pipeline was prepared with (prepare_features' q).</summary>
    public static double PipelineQuantile => Manifest.GetProperty("pipeline").GetProperty("q").GetDouble();

    public static string Path(string relative) => System.IO.Path.Combine(Directory, relative);

    public static IEnumerable<JsonElement> Array(string name) => Manifest.GetProperty(name).EnumerateArray();

    public static ModelFeatures Load(string relative) => FeatureFile.Load(Path(relative));

    public static double? OptionalDouble(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static string Locate()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("PRH_FIXTURES");
        if (!string.IsNullOrEmpty(fromEnv))
            return File.Exists(System.IO.Path.Combine(fromEnv, "manifest.json"))
                ? fromEnv
                : throw new DirectoryNotFoundException($"PRH_FIXTURES={fromEnv} has no manifest.json");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = System.IO.Path.Combine(dir.FullName, "shared", "fixtures", "alignment");
            if (File.Exists(System.IO.Path.Combine(candidate, "manifest.json"))) return candidate;
        }
        throw new DirectoryNotFoundException(
            $"no shared/fixtures/alignment/manifest.json above {AppContext.BaseDirectory}; set PRH_FIXTURES");
    }
}
