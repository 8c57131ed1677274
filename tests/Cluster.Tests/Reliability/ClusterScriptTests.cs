using System.Diagnostics;
using System.Text.Json;
using Prh.Cluster.Tests.Storage;
using Prh.Cluster.Tests.Sweeps;
using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Reliability;

/// <summary>scripts/cluster.sh as an operator uses it: start Redis, Azurite and three silos, sweep, lose a silo, stop.</summary>
[Collection(ProcessCollection.Name)]
public sealed class ClusterScriptTests
{
    [Fact]
    public async Task The_cluster_script_starts_a_working_cluster_reports_it_and_stops_every_process()
    {
        string dir = Directory.CreateTempSubdirectory("prh-script-").FullName;
        // The script gives silo i the ports base + i: runs of three free ports, apart.
        int[] free = FreePortRuns(5, 3);
        var ports = new Dictionary<string, string>
        {
            ["PRH_REDIS_PORT"] = free[0].ToString(),
            ["PRH_AZURITE_PORT"] = free[1].ToString(),
            ["PRH_SILO_PORT"] = free[2].ToString(),
            ["PRH_GATEWAY_PORT"] = free[3].ToString(),
            ["PRH_HEALTH_PORT"] = free[4].ToString(),
            ["PRH_DLL"] = Path.Combine(AppContext.BaseDirectory, "prh.dll"),
        };
        try
        {
            var start = Script(ports, "start", "--dir", dir);
            Assert.True(start.ExitCode == 0, start.Output);
            Assert.Contains("cluster up: 3 silos", start.Output);
            string[] gateways = File.ReadAllText(Path.Combine(dir, "gateways")).Split(' ', StringSplitOptions.TrimEntries);
            Assert.Equal(3, gateways.Length);
            Assert.Equal(3, Script(ports, "status", "--dir", dir).Output.Split('\n').Count(l => l.StartsWith("silo") && l.EndsWith("ready") && !l.Contains("not ready")));
            // The connection string went through the environment: no command line shows the key.
            foreach (int pid in Pids(dir)) Assert.DoesNotContain(AzuriteFixture.AccountKey, File.ReadAllText($"/proc/{pid}/cmdline"));

            var models = SweepTests.VisionModels().Take(3).ToList();
            string spec = WriteSpec(dir, "script", models, [("cka", null), ("mutual_knn", 10)]);
            var run = Run(["sweep", "run", spec, "--json", "--cluster", .. gateways]);
            Assert.True(run.ExitCode == 0, run.Stderr);
            SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(run.Stdout).RootElement, models), models);

            int silo1 = int.Parse(File.ReadAllText(Path.Combine(dir, "silo1.pid")));
            Process.GetProcessById(silo1).Kill();
            for (int i = 0; i < 50 && Running(silo1); i++) await Task.Delay(100);
            string status = Script(ports, "status", "--dir", dir).Output;
            Assert.Contains("silo1: not running", status);
            Assert.Contains("silo0: running", status);
        }
        finally
        {
            var pids = Pids(dir);
            var stop = Script(ports, "stop", "--dir", dir);
            Assert.True(stop.ExitCode == 0, stop.Output);
            Assert.All(pids, pid => Assert.False(Running(pid), $"process {pid} survived the stop"));
            Assert.Empty(Directory.GetFiles(dir, "*.pid"));
        }
    }

    private static List<int> Pids(string dir) => Directory.GetFiles(dir, "*.pid").Select(f => int.Parse(File.ReadAllText(f).Trim())).ToList();

    /// <summary>The process exists and is not a zombie (killed, not yet reaped by init).</summary>
    private static bool Running(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1][0] != 'Z'; }
        catch (IOException) { return false; }
    }

    private static (int ExitCode, string Output) Script(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = PrhProcess.Program("bash", [Path.Combine(AzuriteFixture.FindRepositoryRoot(), "scripts", "cluster.sh"), .. args]);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        var result = PrhProcess.RunToEnd(start);
        return (result.ExitCode, result.Stdout + result.Stderr);
    }
}
