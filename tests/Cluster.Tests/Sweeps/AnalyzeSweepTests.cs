using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary><c>prh sweep analyze ID</c> against a silo process: the sweep's matrix read from the cluster gives the report its results.json gives.</summary>
public sealed class AnalyzeSweepTests
{
    [Fact]
    public async Task Analyze_of_a_sweep_equals_analyze_of_its_results_json()
    {
        string folder = Directory.CreateTempSubdirectory("prh-analyze-sweep-").FullName;
        int siloPort = FreePort(), gatewayPort = FreePort();
        await using var silo = new Background(PrhProcess.StartInfo(["silo", $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
            "--Store:Kind=file", $"--Store:DataDirectory={Path.Combine(folder, "data")}"]));
        await silo.WaitForPort(gatewayPort);
        string gateway = $"127.0.0.1:{gatewayPort}";
        var models = SweepTests.VisionModels().Take(4).ToList();
        string spec = WriteSpec(folder, "analyzed", models, [("mutual_knn", 10), ("cka", null)]);

        var run = Run("sweep", "run", spec, "--json", "--cluster", gateway);
        Assert.True(run.ExitCode == 0, run.Stderr);
        string results = Path.Combine(folder, "results.json");
        File.WriteAllText(results, run.Stdout);
        // Made-up competence: the order the models are listed in.
        string competence = Path.Combine(folder, "competence.csv");
        File.WriteAllLines(competence, models.Select((m, i) => $"{m},{i + 1}"));

        string[] options = ["--metric", "cka", "--competence", competence, "--reference", models[0], "--buckets", "2", "--bootstrap", "100",
            "--out", Path.Combine(folder, "analysis"), "--json"];
        var fromSweep = Run(["sweep", "analyze", "analyzed", "--cluster", gateway, .. options]);
        Assert.True(fromSweep.ExitCode == 0, fromSweep.Stderr);
        var fromFile = Run(["sweep", "analyze", "--matrix", results, .. options]);
        Assert.True(fromFile.ExitCode == 0, fromFile.Stderr);
        Assert.Equal(fromFile.Stdout, fromSweep.Stdout);
        Assert.Equal(models.Count - 1, fromSweep.Json.GetProperty("reference").GetProperty("models").GetArrayLength());

        var unknown = Run(["sweep", "analyze", "analyzed", "--cluster", gateway, "--metric", "svcca", "--competence", competence]);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("has no metric 'svcca'", unknown.Stderr);
    }
}
