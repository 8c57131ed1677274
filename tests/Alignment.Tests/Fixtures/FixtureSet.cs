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

    public static string Path(string relative) => System.IO.Path.Combine(Directory, relative);

    public static IEnumerable<JsonElement> Array(string name) => Manifest.GetProperty(name).EnumerateArray();

    public static ModelFeatures Load(string relative) => FeatureFile.Load(Path(relative));

    /// <summary>The reference's keyword arguments as the engine's kwargs (long, double, bool, string, null).</summary>
    public static Dictionary<string, object?> Kwargs(JsonElement kwargs)
    {
        var result = new Dictionary<string, object?>();
        foreach (var p in kwargs.EnumerateObject()) result[p.Name] = Value(p.Value);
        return result;
    }

    public static object? Value(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Number when v.TryGetInt64(out long l) => l,
        JsonValueKind.Number => v.GetDouble(),
        _ => throw new InvalidDataException($"unexpected kwarg value {v}"),
    };

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
