using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using Prh.Client.Sweeps;
using Prh.Cluster.Tests.Storage;
using Prh.Cluster.Tests.Sweeps;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Xunit.Abstractions;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Reliability;

/// <summary>
/// Faults on a real cluster of processes (Redis membership, Azurite blob store, <c>prh silo</c>s):
/// silos killed with SIGKILL, the store stopped, a stored blob corrupted, one sweep submitted twice.
/// Every sweep must end with the reference matrices, and counted work shows nothing finished is redone.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class SiloCrashTests(ITestOutputHelper output)
{
    private static readonly (string, int?)[] FiveMetrics = [("mutual_knn", 10), ("cka", null), ("unbiased_cka", null), ("cknna", 10), ("cycle_knn", 10)];

    [Fact]
    public async Task Killing_one_of_three_silos_mid_sweep_still_gives_the_reference_matrices()
    {
        string folder = Directory.CreateTempSubdirectory("prh-crash-").FullName;
        await using var cluster = await LoopbackCluster.Start(folder, 3, azurite: true, [.. LoopbackCluster.FastFailureDetection, LoopbackCluster.OneModelBlocks]);
        var gateways = cluster.Gateways;
        var models = SweepTests.AllModels();
        string spec = WriteSpec(folder, "crash", models, FiveMetrics);
        var submit = Run(["sweep", "submit", spec, "--cluster", gateways[0]]);
        Assert.True(submit.ExitCode == 0, submit.Stderr);

        // Watch closely from this process and kill the third silo as soon as the first tile is scored: it holds a tile of its own then.
        await using (var client = await ClusterConnection.Remote([gateways[0]]))
        {
            await WaitFor(client, "crash", s => s.LayerPairsScored > 0);
            cluster.Silos[2].Process.Kill();
        }

        // A user's view from here on: watch until the end, then the matrices.
        var watch = Run(["sweep", "watch", "crash", "--cluster", gateways[0], gateways[1]]);
        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);
        var rerun = Run(["sweep", "run", spec, "--json", "--cluster", gateways[0], gateways[1]]); // finished: served from the store
        Assert.True(rerun.ExitCode == 0, rerun.Stderr);
        SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(rerun.Stdout).RootElement, models), models);
    }

    [Fact]
    public async Task Killing_every_silo_mid_sweep_and_starting_three_new_ones_resumes_and_recomputes_only_unfinished_work()
    {
        string folder = Directory.CreateTempSubdirectory("prh-crash-all-").FullName;
        await using var cluster = await LoopbackCluster.Start(folder, 3, azurite: true, [.. LoopbackCluster.FastFailureDetection, LoopbackCluster.OneModelBlocks]);
        var models = SweepTests.AllModels();
        string spec = WriteSpec(folder, "all", models, FiveMetrics);
        var submit = Run(["sweep", "submit", spec, "--cluster", cluster.Gateways[0]]);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        await using (var client = await ClusterConnection.Remote([cluster.Gateways[0]]))
            await WaitFor(client, "all", s => s.Scoring is { TilesDone: >= 3 });
        cluster.KillAllSilos();

        // What the store holds now is what was finished: scored tiles (in the aggregator's state) and model sketches.
        for (int i = 0; i < 3; i++) await cluster.AddSilo();
        long finishedLayerPairs = 0;
        await using (var client = await ClusterConnection.Remote(cluster.Gateways))
            finishedLayerPairs = await Eventually(async () => (await client.Client.GetGrain<IAggregatorGrain>("fixtures").GetCountersAsync()).LayerPairsScored);
        int sketchesBefore = await Stored(cluster, "documents/sketches/");
        Assert.True(finishedLayerPairs > 0 && sketchesBefore > 0, $"nothing was finished before the kill ({finishedLayerPairs} layer pairs, {sketchesBefore} sketches)");

        var watch = Run(["sweep", "watch", "all", "--cluster", .. cluster.Gateways]);
        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);
        var status = Run(["sweep", "status", "all", "--json", "--cluster", cluster.Gateways[0]]);
        long totalLayerPairs = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("layer_pairs_scored").GetInt64();

        // Only the new silos are running now: their counters are exactly the work redone.
        double recomputedLayerPairs = await cluster.Metric("prh_layer_pairs_scored_total");
        double sketchesBuilt = await cluster.Metric("prh_sketches_built_total");
        Assert.True(totalLayerPairs > finishedLayerPairs, $"the sweep had finished before the kill ({finishedLayerPairs} of {totalLayerPairs})");
        output.WriteLine($"recorded before the kill: {finishedLayerPairs} of {totalLayerPairs} layer pairs, {sketchesBefore} model sketches; " +
            $"recomputed by the new silos: {recomputedLayerPairs} layer pairs, {sketchesBuilt} model sketches");
        Assert.Equal(totalLayerPairs - finishedLayerPairs, (long)recomputedLayerPairs);
        Assert.Equal(await Stored(cluster, "documents/sketches/") - sketchesBefore, (int)sketchesBuilt);

        var results = Run(["sweep", "run", spec, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(results.ExitCode == 0, results.Stderr);
        SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(results.Stdout).RootElement, models), models);
    }

    [Fact]
    public async Task Killing_every_silo_mid_extraction_resumes_and_extracts_only_the_missing_shards()
    {
        string folder = Directory.CreateTempSubdirectory("prh-crash-onnx-").FullName;
        const int n = 2000, width = 256, shards = 40;
        File.WriteAllBytes(Path.Combine(folder, "mlp.onnx"), Prh.Extraction.Onnx.OnnxModelBuilder.Mlp(width, [1536, 1536, 1536], seed: 7).Bytes);
        var random = new Random(8);
        Prh.Alignment.IO.NpyFile.Write(Path.Combine(folder, "x.npy"), [n, width], Enumerable.Range(0, n * width).Select(_ => random.NextDouble()).ToArray());
        string spec = Path.Combine(folder, "onnx.yaml");
        File.WriteAllText(spec, $"name: onnx\ndataset: onnx-data\nmodels:\n  - id: mlp\n    onnx: mlp.onnx\n    layer_op: Relu\n    pool: none\n" +
            $"inputs:\n  x: x.npy\nshard_size: {n / shards}\nmetrics:\n  - name: cka\n");

        await using var cluster = await LoopbackCluster.Start(folder, 3, azurite: true, LoopbackCluster.FastFailureDetection);
        var submit = Run(["sweep", "submit", spec, "--cluster", cluster.Gateways[0]]);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        // Killed as soon as the store records the second finished shard.
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await Stored(cluster, "documents/extractions/") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "no shard was recorded in 2 minutes");
            await Task.Delay(10);
        }
        cluster.KillAllSilos();

        // Counted once the new silos are up: by then the store has answered every request the dead ones had sent.
        for (int i = 0; i < 3; i++) await cluster.AddSilo();
        int recorded = await Stored(cluster, "documents/extractions/");
        Assert.InRange(recorded, 1, shards - 1);
        var resumed = Run(["sweep", "run", spec, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        double extracted = await cluster.Metric("prh_cache_misses_total{prh_kind=\"extraction\"}");
        output.WriteLine($"shards recorded before the kill: {recorded} of {shards}; extracted by the new silos: {extracted}");
        Assert.Equal(shards - recorded, (int)extracted);
        Assert.Equal(shards, await Stored(cluster, "documents/extractions/"));

        // The same sweep undisturbed, on an embedded silo with a store of its own: the same matrix, bit for bit.
        var undisturbed = Run(["sweep", "run", spec, "--json", "--data", Path.Combine(folder, "undisturbed")]);
        Assert.True(undisturbed.ExitCode == 0, undisturbed.Stderr);
        Assert.Equal(undisturbed.Stdout, resumed.Stdout);
    }

    [Fact]
    public async Task Stopping_the_store_for_ten_seconds_pauses_the_sweep_which_then_completes_and_no_credential_leaks()
    {
        string folder = Directory.CreateTempSubdirectory("prh-outage-").FullName;
        // Short client retries (about 1.5 s), so a 10 s outage outlasts them and the sweep must pause;
        // spans on the console, so traces are checked for credentials too.
        await using var cluster = await LoopbackCluster.Start(folder, 3, azurite: true,
            [.. LoopbackCluster.FastFailureDetection, LoopbackCluster.OneModelBlocks, "--Store:RetryAttempts=2", "--Store:RetryMaxDelay=00:00:01",
                "--Store:NetworkTimeout=00:00:05", "--Telemetry:Console=true"]);
        var models = SweepTests.AllModels();
        string spec = WriteSpec(folder, "outage", models, FiveMetrics);
        var outputs = new List<string>();
        var submit = Run(["sweep", "submit", spec, "--cluster", cluster.Gateways[0]]);
        Assert.True(submit.ExitCode == 0, submit.Stderr);
        var paused = new List<string>();
        await using (var client = await ClusterConnection.Remote(cluster.Gateways))
        {
            var sweep = client.Client.GetGrain<ISweepGrain>("outage");
            await WaitFor(client, "outage", s => s.LayerPairsScored > 0);
            await cluster.StopStore();
            var back = DateTime.UtcNow.AddSeconds(10);
            while (DateTime.UtcNow < back)
            {
                var status = await sweep.GetStatusAsync();
                if (status.Paused is { } p) paused.Add(SweepStatusText.Pause(p));
                Assert.False(status.IsFinished && status.Phase == SweepPhase.Failed, string.Join("; ", SweepStatusText.Errors(status)));
                await Task.Delay(250);
            }
            var during = Run(["sweep", "status", "outage", "--cluster", cluster.Gateways[0]]);
            outputs.Add(during.Stdout + during.Stderr);
            Assert.Contains("PAUSED", during.Stdout);
            await cluster.StartStore();
        }
        output.WriteLine($"{paused.Count} status polls during the 10 s outage said paused; the last: {paused.LastOrDefault()}");
        Assert.NotEmpty(paused);
        Assert.Contains($"the store azure-blob:{AzuriteFixture.AccountName}/prh is unavailable", paused[^1]);

        var watch = Run(["sweep", "watch", "outage", "--cluster", .. cluster.Gateways]);
        outputs.Add(watch.Stdout + watch.Stderr);
        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);
        var results = Run(["sweep", "run", spec, "--json", "--cluster", .. cluster.Gateways]);
        outputs.Add(results.Stdout + results.Stderr);
        Assert.True(results.ExitCode == 0, results.Stderr);
        SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(results.Stdout).RootElement, models), models);

        // The store's key appears nowhere: not in any process's logs or spans, nor in what the commands printed.
        string everything = cluster.Output() + string.Join("\n", outputs) + string.Join("\n", paused);
        Assert.Contains("unavailable", everything);
        Assert.DoesNotContain(AzuriteFixture.AccountKey, everything);
        Assert.DoesNotContain("AccountKey", everything);
    }

    [Fact]
    public async Task A_corrupt_feature_blob_is_detected_discarded_and_recomputed_by_the_next_sweep()
    {
        string folder = Directory.CreateTempSubdirectory("prh-corrupt-").FullName;
        await using var cluster = await LoopbackCluster.Start(folder, 2, azurite: true, LoopbackCluster.FastFailureDetection);
        var models = SweepTests.VisionModels();
        string first = WriteSpec(folder, "before", models.Take(3), [("cka", null), ("mutual_knn", 10)]);
        var before = Run(["sweep", "run", first, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(before.ExitCode == 0, before.Stderr);

        // Flip one byte of a stored feature blob, then bring up fresh silos (no local copies of it).
        string victim = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(SweepTests.FileOf(models[1]))));
        var blob = cluster.Container.GetBlobClient($"blobs/sha256/{victim}");
        byte[] bytes = (await blob.DownloadContentAsync()).Value.Content.ToArray();
        bytes[^1] ^= 0x40;
        await blob.UploadAsync(BinaryData.FromBytes(bytes), overwrite: true);
        cluster.KillAllSilos();
        for (int i = 0; i < 2; i++) await cluster.AddSilo();

        // The next sweep needs it for the pairs of a new model: it detects, discards, re-imports, scores.
        string next = WriteSpec(folder, "after", models, [("cka", null), ("mutual_knn", 10)]);
        var after = Run(["sweep", "run", next, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(after.ExitCode == 0, after.Stderr);
        SweepTests.AssertMatchesManifest(SweepTests.ParseResults(JsonDocument.Parse(after.Stdout).RootElement, models), models);
        var status = JsonDocument.Parse(Run(["sweep", "status", "after", "--json", "--cluster", cluster.Gateways[0]]).Stdout).RootElement;
        var recovery = Assert.Single(status.GetProperty("recoveries").EnumerateArray());
        output.WriteLine($"recovery: {recovery}");
        Assert.Equal(models[1], recovery.GetProperty("model").GetString());
        Assert.Contains(victim, recovery.GetProperty("lost").GetString());
        Assert.Contains($"sha256:{victim}", cluster.Output()); // the silo that met it logged the corruption
        Assert.Contains("was corrupt", cluster.Output());
        // The store holds the right bytes again.
        Assert.Equal(victim, Convert.ToHexStringLower(SHA256.HashData((await blob.DownloadContentAsync()).Value.Content.ToArray())));
    }

    [Fact]
    public async Task The_same_sweep_submitted_twice_at_once_computes_each_pair_and_sketch_once()
    {
        string folder = Directory.CreateTempSubdirectory("prh-twice-").FullName;
        await using var cluster = await LoopbackCluster.Start(folder, 3, azurite: true);
        var models = SweepTests.AllModels().Take(5).ToList();
        string spec = WriteSpec(folder, "twice", models, [("cka", null), ("mutual_knn", 10)]);
        var submits = new[] { cluster.Gateways[0], cluster.Gateways[1] }.Select(g => Task.Run(() => Run(["sweep", "submit", spec, "--cluster", g]))).ToList();
        foreach (var submit in await Task.WhenAll(submits)) Assert.True(submit.ExitCode == 0, submit.Stderr);
        var watch = Run(["sweep", "watch", "twice", "--cluster", .. cluster.Gateways]);
        Assert.True(watch.ExitCode == 0, watch.Stdout + watch.Stderr);

        output.WriteLine($"pairs scored: {await cluster.Metric("prh_pairs_scored_total")}, sketch pieces built: " +
            $"{await cluster.Metric("prh_cache_misses_total{prh_kind=\"sketch\"}")}");
        Assert.Equal(2 * (5 * 6 / 2), (int)await cluster.Metric("prh_pairs_scored_total")); // 15 pairs (i <= j) per metric
        Assert.Equal(5 * 2, (int)await cluster.Metric("prh_cache_misses_total{prh_kind=\"sketch\"}")); // kernels and neighbours per model
        Assert.Equal(5, (int)await cluster.Metric("prh_sketches_built_total")); // one sketch job per model
        var results = Run(["sweep", "results", "twice", "--metric", "cka", "--format", "json", "--cluster", cluster.Gateways[2]]);
        Assert.True(results.ExitCode == 0, results.Stderr);
    }

    /// <summary>Polls the sweep's status until <paramref name="condition"/>, failing if it finishes first or 2 minutes pass.</summary>
    /// <summary>The first status meeting <paramref name="condition"/>, which must come while the sweep still has work pending (so a fault injected then lands mid-work).</summary>
    private static async Task<SweepStatus> WaitFor(ClusterConnection client, string sweep, Func<SweepStatus, bool> condition)
    {
        var grain = client.Client.GetGrain<ISweepGrain>(sweep);
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            var status = await grain.GetStatusAsync();
            if (condition(status))
            {
                Assert.False(status.IsFinished || status.Scoring is { TileCount: > 0 } s && s.TilesDone == s.TileCount,
                    $"sweep {sweep} had no work left ({status.Phase}, tiles {status.Scoring?.TilesDone}/{status.Scoring?.TileCount}) when the fault was to be injected");
                return status;
            }
            Assert.False(status.IsFinished, $"sweep {sweep} finished ({status.Phase}) before the fault could be injected");
            Assert.True(DateTime.UtcNow < deadline, $"sweep {sweep} did not get there in 2 minutes");
            await Task.Delay(5);
        }
    }

    /// <summary>Repeats a call while the cluster is still declaring the killed silos dead (up to a minute).</summary>
    private static async Task<T> Eventually<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try { return await call(); }
            catch (Exception) when (DateTime.UtcNow < deadline) { await Task.Delay(500); }
        }
    }

    /// <summary>How many store documents (records of finished units) are under the prefix.</summary>
    private static async Task<int> Stored(LoopbackCluster cluster, string prefix)
    {
        int count = 0;
        await foreach (BlobItem _ in cluster.Container.GetBlobsAsync(BlobTraits.None, BlobStates.None, prefix, CancellationToken.None)) count++;
        return count;
    }
}

/// <summary>The tests that run clusters of processes take turns: on two cores, side by side they would starve each other's failure detection.</summary>
[CollectionDefinition(Name)]
public sealed class ProcessCollection
{
    public const string Name = "processes";
}
