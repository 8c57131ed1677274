using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains;
using Prh.Grains.Aggregation;
using Prh.Grains.Models;
using Prh.Grains.Storage;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>
/// What tiles add to sweeps: nobody needs to watch a long one (grains idle for three seconds are
/// collected, and it still completes), a stored sketch piece found corrupt is built again where a tile
/// reads it, and one model pair's whole layer matrix is kept and served.
/// </summary>
public sealed class TileSweepTests
{
    [Fact]
    public async Task A_long_sweep_completes_with_nobody_watching_while_idle_grains_are_collected_after_three_seconds()
    {
        var store = TestClusters.FileStore();
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Configure<GrainCollectionOptions>(o =>
            {
                o.CollectionQuantum = TimeSpan.FromSeconds(1);
                o.CollectionAge = TimeSpan.FromSeconds(3);
            });
            silo.Services.Configure<TileOptions>(o => o.MemoryBudget = TestClusters.OneModelBlocks); // tens of tiles
            silo.AddPrhGrains(store);
        });
        var cluster = builder.Build();
        await cluster.DeployAsync();
        try
        {
            var models = SweepTests.AllModels();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("unwatched");
            await sweep.SubmitAsync(SweepTests.Definition("unwatched", "fixtures", models));

            // Nobody asks anything for a while: the grains that are idle meanwhile (the models, once imported) are collected.
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            var deadline = DateTime.UtcNow.AddSeconds(60);
            int modelActivations;
            do
            {
                await Task.Delay(TimeSpan.FromSeconds(2));
                modelActivations = (await management.GetSimpleGrainStatistics()).Where(s => s.GrainType.Contains(nameof(ModelGrain))).Sum(s => s.ActivationCount);
            }
            while (modelActivations > 0 && DateTime.UtcNow < deadline);
            Assert.Equal(0, modelActivations);
            await Task.Delay(TimeSpan.FromSeconds(20));

            // Asked only now: it completed by itself (a stalled sweep would be resumed by this call, not finished).
            var status = await sweep.GetStatusAsync();
            Assert.True(status.Phase == SweepPhase.Completed, $"the sweep was {status.Phase} when first asked: {SweepProgressLine(status)}");
            Assert.True(status.Scoring!.TileCount > 10, $"only {status.Scoring.TileCount} tiles");
            Assert.Equal(status.Scoring.TileCount, status.Scoring.TilesDone);
            SweepTests.AssertMatchesManifest(await sweep.GetResultsAsync(), models);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static string SweepProgressLine(SweepStatus status) => Prh.Client.Sweeps.SweepStatusText.Describe(status);

    [Fact]
    public async Task A_corrupt_stored_sketch_is_built_again_where_a_tile_reads_it()
    {
        var store = TestClusters.FileStore();
        var models = SweepTests.VisionModels();
        var metrics = new List<MetricSpec> { MetricSpec.Parse("mutual_knn@10"), MetricSpec.Parse("cka") };
        var cluster = await TestClusters.Start(store, silos: 2, memoryBudget: TestClusters.OneModelBlocks);
        string victim = models[^1]; // vis_d: wide enough (D = 128 at N = 128) for its kernels to be stored
        try
        {
            var first = cluster.Client.GetGrain<ISweepGrain>("first");
            await first.SubmitAsync(new SweepDefinition("first", "fixtures", models.Select(m => new ModelDefinition(m, SweepTests.FileOf(m))).ToList(), metrics));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(first)).Phase);
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        // Flip a byte in each of the victim's stored pieces (neighbour lists and kernels).
        var files = new FileBlobStore(store.DataDirectory!);
        string sha = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(SweepTests.FileOf(victim))));
        var features = new StoredFeatures(new BlobRef(sha, 0), FeatureFormat.Npy, 0, []);
        var manifest = JsonSerializer.Deserialize<SketchManifest>((await files.ReadDocumentAsync(SketchStore.ManifestName(features)))!.Content)!;
        Assert.NotNull(manifest.Kernels["ip"]);
        var pieces = new[] { manifest.Neighbours!, manifest.Kernels["ip"]! }.Select(uri => BlobRef.TryParseUri(uri,
            out var b) ? b : throw new InvalidDataException($"{uri} is not a blob reference")).ToList();
        foreach (var piece in pieces)
        {
            string path = files.LocalPath(piece)!;
            byte[] bytes = File.ReadAllBytes(path);
            bytes[bytes.Length / 2] ^= 0x20;
            File.WriteAllBytes(path, bytes);
        }

        // A new sweep on fresh silos with two more metrics, whose tiles read the victim's pieces (cknna its lists,
        // unbiased_cka its kernels): found corrupt, built again, the reference matrices.
        var again = await TestClusters.Start(store, silos: 2, memoryBudget: TestClusters.OneModelBlocks);
        try
        {
            var second = again.Client.GetGrain<ISweepGrain>("second");
            await second.SubmitAsync(new SweepDefinition("second", "fixtures", models.Select(m => new ModelDefinition(m, SweepTests.FileOf(m))).ToList(),
                [.. metrics, MetricSpec.Parse("cknna@10"), MetricSpec.Parse("unbiased_cka")]));
            var status = await SweepTests.Finish(second);
            Assert.Equal(SweepPhase.Completed, status.Phase);
            SweepTests.AssertMatchesManifest(await second.GetResultsAsync(), models);
            Assert.True(TestClusters.PerSilo<TileWorker>(again).Sum(w => w.Service.PiecesBuilt) >= 2, "the corrupt pieces were not built again");
            foreach (var piece in pieces) // the right bytes are back under the pieces' names
                Assert.Equal(piece.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(files.LocalPath(piece)!))));
        }
        finally
        {
            await again.DisposeAsync();
        }
    }

    [Fact]
    public async Task One_pairs_whole_layer_matrix_is_kept_and_served_in_either_order()
    {
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 2, memoryBudget: TestClusters.SeveralModelBlocks);
        try
        {
            var models = SweepTests.VisionModels();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("pairs");
            await sweep.SubmitAsync(SweepTests.Definition("pairs", "fixtures", models));
            Assert.Equal(SweepPhase.Completed, (await SweepTests.Finish(sweep)).Phase);
            var results = await sweep.GetResultsAsync();
            foreach (var metric in results)
            {
                // [i][j] of the matrix is compute_score(models[j], models[i]): the pair (j, i)'s best.
                int i = 0, j = models.Count - 1;
                var pair = await sweep.GetPairAsync(metric.Metric.Key, models[j], models[i]);
                Assert.Equal(metric.Scores[i][j], pair.BestScore);
                Assert.Equal(metric.Indices[i][j], pair.BestIndices);
                Assert.Equal(Prh.Alignment.IO.FeatureFile.Load(SweepTests.FileOf(models[j])).LayerCount, pair.Scores.Length);
                Assert.Equal(pair.BestScore, pair.Scores.SelectMany(r => r).Where(double.IsFinite).DefaultIfEmpty(0).Max());
                // The other order: computed for cycle_knn; for a mirrored metric (cknna too) the computed order transposed,
                // with the matrix's mirrored entry as its best.
                var other = await sweep.GetPairAsync(metric.Metric.Key, models[i], models[j]);
                Assert.Equal(pair.Scores.Length, other.Scores[0].Length);
                if (metric.Metric.Name != "cycle_knn")
                {
                    for (int a = 0; a < pair.Scores.Length; a++)
                        for (int b = 0; b < other.Scores.Length; b++) Assert.Equal(pair.Scores[a][b], other.Scores[b][a]);
                    Assert.Equal(metric.Scores[j][i], other.BestScore);
                    Assert.Equal(metric.Indices[j][i], other.BestIndices);
                }
            }
            await Assert.ThrowsAnyAsync<Exception>(() => sweep.GetPairAsync("cka", models[0], "nobody"));
            await Assert.ThrowsAnyAsync<Exception>(() => sweep.GetPairAsync("svcca", models[0], models[1]));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
