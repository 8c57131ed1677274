using System.Text.Json;
using Prh.TestSupport;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary><c>prh sweep run SPEC --json</c> as its own process, on its embedded silo.</summary>
public sealed class SweepCliTests
{
    [Fact]
    public void Sweep_run_json_equals_the_reference_matrices()
    {
        string folder = Directory.CreateTempSubdirectory("prh-sweep-cli-").FullName;
        var models = SweepTests.AllModels();
        var definition = SweepTests.Definition("cli", "fixtures", models);
        var yaml = new List<string> { "name: cli", "dataset: fixtures", "models:" };
        foreach (var m in definition.Models) { yaml.Add($"  - id: {m.Id}"); yaml.Add($"    features: {m.Features}"); }
        yaml.Add("metrics:");
        foreach (var m in definition.Metrics)
        {
            yaml.Add($"  - name: {m.Name}");
            if (m.TopK is { } k) yaml.Add($"    topk: {k}");
        }
        string spec = Path.Combine(folder, "sweep.yaml");
        File.WriteAllLines(spec, yaml);

        var (exit, stdout, stderr) = PrhProcess.Run("sweep", "run", spec, "--json", "--data", Path.Combine(folder, "data"));
        Assert.True(exit == 0, stderr);
        var json = JsonDocument.Parse(stdout).RootElement;
        Assert.Equal(models, json.GetProperty("models").EnumerateArray().Select(m => m.GetString()!));
        var results = SweepTests.ParseResults(json, models);
        SweepTests.AssertMatchesManifest(results, models);
        Assert.Contains("completed", stderr);
    }

    [Fact]
    public void A_spec_with_an_unknown_key_or_a_bad_id_is_refused_with_its_location()
    {
        string folder = Directory.CreateTempSubdirectory("prh-sweep-cli-").FullName;
        string spec = Path.Combine(folder, "bad.yaml");
        File.WriteAllText(spec, "name: bad\ndataset: d\nmodels:\n  - id: a\n    featurs: x.npy\nmetrics:\n  - name: cka\n");
        var (exit, stdout, stderr) = PrhProcess.Run("sweep", "run", spec, "--data", Path.Combine(folder, "data"));
        Assert.NotEqual(0, exit);
        Assert.Equal("", stdout);
        Assert.Contains("bad.yaml:5", stderr);
        Assert.Contains("featurs", stderr);

        File.WriteAllText(spec, $"name: bad\ndataset: d\nmodels:\n  - id: ../escape\n    features: {SweepTests.FileOf(SweepTests.VisionModels()[0])}\nmetrics:\n  - name: cka\n");
        (exit, _, stderr) = PrhProcess.Run("sweep", "run", spec, "--data", Path.Combine(folder, "data"));
        Assert.NotEqual(0, exit);
        Assert.Contains("'../escape' is not a safe name", stderr);
    }
}
