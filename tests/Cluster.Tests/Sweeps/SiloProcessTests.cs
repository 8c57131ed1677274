using System.Text.Json;
using Prh.Alignment.IO;
using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>Real silo processes on loopback, driven by the sweep commands from other processes, as a user would.</summary>
public sealed class SiloProcessTests
{
    [Fact]
    public async Task Submit_watch_status_results_and_plot_against_a_silo_process()
    {
        string folder = Directory.CreateTempSubdirectory("prh-silo-proc-").FullName;
        var (silo, gateway) = await StartSilo(folder);
        await using var _ = silo;
        var models = SweepTests.VisionModels().Take(2).ToList();
        string spec = WriteSpec(folder, "remote", models, [("mutual_knn", 10), ("cka", null)]);

        var submit = Run("sweep", "submit", spec, "--cluster", gateway);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        Assert.Equal("remote", submit.Stdout.Trim());

        var watch = Run("sweep", "watch", "remote", "--cluster", gateway);
        Assert.True(watch.ExitCode == 0, watch.Stderr + watch.Stdout);
        Assert.Contains("completed", watch.Stdout);

        var status = Run("sweep", "status", "remote", "--cluster", gateway, "--json");
        Assert.True(status.ExitCode == 0, status.Stderr);
        var json = JsonDocument.Parse(status.Stdout).RootElement;
        Assert.Equal("completed", json.GetProperty("phase").GetString());
        Assert.True(json.GetProperty("layer_pairs_scored").GetInt64() > 0);

        var csv = Run("sweep", "results", "remote", "--cluster", gateway, "--metric", "cka", "--format", "csv");
        Assert.True(csv.ExitCode == 0, csv.Stderr);
        Assert.StartsWith($"model,{models[0]},{models[1]}", csv.Stdout);

        string npy = Path.Combine(folder, "knn.npy");
        var saved = Run("sweep", "results", "remote", "--cluster", gateway, "--metric", "mutual_knn@10", "--format", "npy", "--out", npy);
        Assert.True(saved.ExitCode == 0, saved.Stderr);
        var matrix = NpyFile.Read(npy);
        Assert.Equal([2, 2], matrix.Shape);
        Assert.Equal(matrix.Values[1], matrix.Values[2]); // mutual_knn is symmetric

        string png = Path.Combine(folder, "cka.png");
        var plot = Run("sweep", "plot", "remote", "--cluster", gateway, "--metric", "cka", "--out", png);
        Assert.True(plot.ExitCode == 0, plot.Stderr);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png).Take(4));

        var unknown = Run("sweep", "results", "remote", "--cluster", gateway, "--metric", "svcca");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("has no metric 'svcca'", unknown.Stderr);
    }

    [Fact]
    public async Task A_calibrated_sweep_shows_its_calibrated_scores_p_values_and_significant_entries_and_marks_its_heatmap()
    {
        string folder = Directory.CreateTempSubdirectory("prh-calibrated-").FullName;
        var (silo, gateway) = await StartSilo(folder);
        await using var _ = silo;
        var models = SweepTests.VisionModels();
        string spec = WriteSpec(folder, "calibrated", models, [("mutual_knn", 10)]);
        File.AppendAllLines(spec, ["calibration:", "  permutations: 30", "  seed: 4", "  fdr: 0.1"]);

        var run = Run("sweep", "run", spec, "--cluster", gateway, "--json");
        Assert.True(run.ExitCode == 0, run.Stderr);
        var calibration = JsonDocument.Parse(run.Stdout).RootElement.GetProperty("results")[0].GetProperty("calibration");
        Assert.Equal(30, calibration.GetProperty("permutations").GetInt32());
        Assert.Equal(0.1, calibration.GetProperty("fdr").GetDouble());
        var significant = Rows(calibration.GetProperty("significant"), e => e.GetBoolean());
        Assert.Contains(significant, row => row.Contains(true)); // the vision models agree beyond chance somewhere

        string[] Results(params string[] flags) => ["sweep", "results", "calibrated", "--cluster", gateway, "--metric", "mutual_knn", .. flags];
        var calibrated = Run(Results("--calibrated", "--format", "json"));
        Assert.True(calibrated.ExitCode == 0, calibrated.Stderr);
        Assert.Equal(calibration.GetProperty("calibrated").ToString(), calibrated.Json.GetProperty("calibrated").ToString());

        var pValues = Run(Results("--pvalues", "--format", "csv"));
        Assert.True(pValues.ExitCode == 0, pValues.Stderr);
        var csvRows = pValues.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',').Skip(1).Select(double.Parse).ToArray()).ToList();
        Assert.Equal(Rows(calibration.GetProperty("p_value"), e => e.GetDouble()), csvRows);

        // --significant: the scores where BH finds them significant, null elsewhere.
        var kept = Run(Results("--significant", "--format", "json"));
        Assert.True(kept.ExitCode == 0, kept.Stderr);
        var observed = Rows(calibration.GetProperty("observed"), e => e.GetDouble());
        var shown = Rows(kept.Json.GetProperty("significant"), e => e.ValueKind == JsonValueKind.Null ? (double?)null : e.GetDouble());
        for (int i = 0; i < models.Count; i++)
            for (int j = 0; j < models.Count; j++) Assert.Equal(significant[i][j] ? observed[i][j] : null, shown[i][j]);

        var table = Run(Results("--calibrated"));
        Assert.True(table.ExitCode == 0, table.Stderr);
        Assert.Contains("mutual_knn@10 calibrated, calibrated by K = 30 seeded permutations (seed 4), α = 0.05, aggregate max", table.Stdout);

        string png = Path.Combine(folder, "calibrated.png");
        var plot = Run("sweep", "plot", "calibrated", "--cluster", gateway, "--metric", "mutual_knn", "--calibrated", "--out", png);
        Assert.True(plot.ExitCode == 0, plot.Stderr);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png).Take(4));

        foreach (var (flags, phrase) in new[]
        {
            (Results("--calibrated", "--pvalues"), "--calibrated and --pvalues exclude each other: one matrix at a time"),
            (Results("--significant", "--pair", models[0], models[1]), "--calibrated, --pvalues and --significant are of the models x models matrix, not of --pair"),
        })
        {
            var refused = Run(flags);
            Assert.NotEqual(0, refused.ExitCode);
            Assert.Contains(phrase, refused.Stderr);
        }
    }

    /// <summary>A <c>prh silo</c> process with its file store under <paramref name="folder"/>, once its gateway listens.</summary>
    private static async Task<(Background Silo, string Gateway)> StartSilo(string folder)
    {
        int siloPort = FreePort(), gatewayPort = FreePort();
        var silo = new Background(PrhProcess.StartInfo(["silo", $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
            "--Store:Kind=file", $"--Store:DataDirectory={Path.Combine(folder, "data")}"]));
        try
        {
            await silo.WaitForPort(gatewayPort);
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }
        return (silo, $"127.0.0.1:{gatewayPort}");
    }

    private static List<T[]> Rows<T>(JsonElement matrix, Func<JsonElement, T> value) =>
        matrix.EnumerateArray().Select(row => row.EnumerateArray().Select(value).ToArray()).ToList();

    /// <summary>Two silo processes joined through Redis clustering (Debian's redis-server), one sweep across both.</summary>
    [Fact]
    public async Task Two_silo_processes_on_redis_clustering_run_a_sweep_that_matches_the_reference()
    {
        string folder = Directory.CreateTempSubdirectory("prh-redis-").FullName;
        await using var cluster = await Reliability.LoopbackCluster.Start(folder, 2, azurite: false);
        var gateways = cluster.Gateways;
        var models = SweepTests.AllModels().Take(4).ToList();
        string spec = WriteSpec(folder, "redis", models, [("mutual_knn", 10), ("cknna", 10)]);
        var run = Run(["sweep", "run", spec, "--json", "--cluster", .. gateways]);
        Assert.True(run.ExitCode == 0, run.Stderr);
        var json = JsonDocument.Parse(run.Stdout).RootElement;
        var results = SweepTests.ParseResults(json, models);
        SweepTests.AssertMatchesManifest(results, models);
    }
}
