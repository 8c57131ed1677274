using System.Text.Json;
using Prh.Cluster.Tests.Sweeps;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>Real silo processes on Redis clustering; one is killed with SIGKILL in the middle of a sweep.</summary>
public sealed class SiloCrashTests
{
    [Fact]
    public async Task Killing_one_of_three_silos_mid_sweep_still_gives_the_reference_matrices()
    {
        string folder = Directory.CreateTempSubdirectory("prh-crash-").FullName;
        // Declare a dead silo dead within seconds, and give up on calls to it soon.
        await using var cluster = await RedisCluster.Start(folder, 3,
            "--Membership:ProbeTimeout=00:00:01", "--Membership:NumMissedProbesLimit=2", "--Membership:NumVotesForDeathDeclaration=1",
            "--Messaging:ResponseTimeout=00:00:10");
        var (silos, gateways) = (cluster.Silos, cluster.Gateways);
        var models = SweepTests.AllModels();
        string spec = WriteSpec(folder, "crash", models, [("mutual_knn", 10), ("cka", null), ("unbiased_cka", null), ("cknna", 10), ("cycle_knn", 10)]);
        var submit = Run(["sweep", "submit", spec, "--cluster", gateways[0]]);
        Assert.True(submit.Exit == 0, submit.Stderr);

        // Watch closely from this process and kill the third silo as soon as scoring has started.
        await using (var client = await Prh.Client.Sweeps.ClusterConnection.Remote([gateways[0]]))
        {
            var sweep = client.Client.GetGrain<Prh.Contracts.Grains.ISweepGrain>("crash");
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var status = await sweep.GetStatus();
                if (status.LayerPairsScored > 0)
                {
                    Assert.True(status.MetricsDone < 5, "the sweep finished before a silo could be killed");
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, "no layer pair scored in 2 minutes");
                await Task.Delay(5);
            }
            silos[2].Kill();
        }

        // A user's view from here on: watch until the end, then the matrices.
        var watch = Run(["sweep", "watch", "crash", "--cluster", gateways[0], gateways[1]]);
        Assert.True(watch.Exit == 0, watch.Stdout + watch.Stderr);
        var results = Run(["sweep", "results", "crash", "--cluster", gateways[0], "--metric", "cka", "--format", "json"]);
        Assert.True(results.Exit == 0, results.Stderr);
        var rerun = Run(["sweep", "run", spec, "--json", "--cluster", gateways[0], gateways[1]]); // finished: served from the store
        Assert.True(rerun.Exit == 0, rerun.Stderr);
        SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(rerun.Stdout).RootElement, models), models);
    }
}
