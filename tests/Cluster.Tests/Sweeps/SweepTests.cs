using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Alignment.Tests.Fixtures;
using Prh.Client.Sweeps;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>
/// Sweeps on a three-silo cluster against the manifest's vision x vision alignment matrices (the
/// reference's compute_alignment(models, models)), incremental re-submission, restarts, bad input.
/// </summary>
public sealed class SweepTests
{
    private static JsonElement Pipeline => FixtureSet.Manifest.GetProperty("pipeline");

    internal static string FileOf(string model) => FixtureSet.Path(Pipeline.GetProperty("models").EnumerateArray()
        .Single(m => m.GetProperty("name").GetString() == model).GetProperty("file").GetString()!);

    /// <summary>The manifest's symmetric (models x models) matrices: vision x vision.</summary>
    internal static List<JsonElement> SymmetricMatrices() => Pipeline.GetProperty("alignment_matrices").EnumerateArray()
        .Where(m => m.GetProperty("x_models").ToString() == m.GetProperty("y_models").ToString()).ToList();

    internal static List<string> VisionModels() =>
        SymmetricMatrices()[0].GetProperty("x_models").EnumerateArray().Select(x => x.GetString()!).ToList();

    internal static SweepDefinition Definition(string name, string dataset, IEnumerable<string> models) => new(
        name, dataset,
        models.Select(m => new ModelDefinition(m, FileOf(m))).ToList(),
        SymmetricMatrices().Select(m => MetricSpec.ForComputeScore(m.GetProperty("metric").GetString()!,
            m.GetProperty("metric").GetString()!.Contains("knn") ? m.GetProperty("topk").GetInt32() : null)).ToList());

    internal static async Task<SweepStatus> Finish(ISweepGrain sweep)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            var status = await sweep.GetStatusAsync();
            if (status.Phase == SweepPhase.Failed) Console.WriteLine($"sweep {status.Id} failed: {string.Join("; ", SweepStatusText.Errors(status))}");
            if (status.IsFinished) return status;
            await Task.Delay(100);
        }
        throw new TimeoutException("sweep did not finish in 3 minutes");
    }

    /// <summary>
    /// Every manifest matrix whose metric and models the sweep has, entry by entry: the sweep's
    /// [x][y] is compute_score(prep(y), prep(x)), which is compute_alignment(xs, ys)[i][j] when x stands
    /// before y in the sweep (language models first), and its mirror for the symmetric vision matrices.
    /// Values against the float32 reference; indices where the margin is clear and off the diagonal.
    /// </summary>
    internal static void AssertMatchesManifest(IReadOnlyList<MetricMatrix> results, IReadOnlyList<string> models)
    {
        int compared = 0;
        foreach (var expected in Pipeline.GetProperty("alignment_matrices").EnumerateArray())
        {
            string metric = expected.GetProperty("metric").GetString()!;
            var actual = results.SingleOrDefault(r => r.Metric.Name == metric);
            if (actual is null) continue;
            var xs = expected.GetProperty("x_models").EnumerateArray().Select(x => x.GetString()!).ToList();
            var ys = expected.GetProperty("y_models").EnumerateArray().Select(x => x.GetString()!).ToList();
            bool symmetric = xs.SequenceEqual(ys);
            for (int i = 0; i < xs.Count; i++)
                for (int j = 0; j < ys.Count; j++)
                {
                    int ai = models.ToList().IndexOf(xs[i]), aj = models.ToList().IndexOf(ys[j]);
                    if (ai < 0 || aj < 0 || (!symmetric && ai > aj)) continue;
                    double want = expected.GetProperty("scores")[i][j].GetDouble();
                    double got = actual.Scores[ai][aj];
                    Assert.True(Math.Abs(want - got) <= 1e-5, $"{metric} [{xs[i]}, {ys[j]}]: expected {want}, got {got}");
                    if (!(symmetric && i == j) && expected.GetProperty("margin_to_runner_up")[i][j].GetDouble() > 1e-5)
                        Assert.Equal(expected.GetProperty("indices")[i][j].EnumerateArray().Select(v => v.GetInt32()), actual.Indices[ai][aj]!);
                    compared++;
                }
        }
        Assert.True(compared > 0, "no manifest entry matched the sweep's models and metrics");
    }

    /// <summary>The matrices of a `prh sweep run --json` document.</summary>
    internal static List<MetricMatrix> ParseResults(JsonElement json, IReadOnlyList<string> models) =>
        json.GetProperty("results").EnumerateArray().Select(r => new MetricMatrix(
            MetricSpec.ForComputeScore(r.GetProperty("metric").GetString()!, r.TryGetProperty("topk",
                out var k) && k.ValueKind == JsonValueKind.Number ? k.GetInt32() : 10), models,
            r.GetProperty("scores").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray(),
            r.GetProperty("indices").EnumerateArray().Select(row => row.EnumerateArray()
                .Select(p => p.ValueKind == JsonValueKind.Null ? null : p.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray()).ToArray())).ToList();

    /// <summary>Language models first, then vision: the sweep then holds both manifest matrices.</summary>
    internal static List<string> AllModels() =>
        Pipeline.GetProperty("models").EnumerateArray().OrderBy(m => m.GetProperty("modality").GetString() == "language" ? 0 : 1)
            .Select(m => m.GetProperty("name").GetString()!).ToList();

    /// <summary>One tile for everything (the default budget), tiles of one model, tiles of a few models.</summary>
    [Theory]
    [InlineData(null)]
    [InlineData(TestClusters.OneModelBlocks)]
    [InlineData(TestClusters.SeveralModelBlocks)]
    public async Task A_three_silo_sweep_reproduces_the_reference_matrices_and_an_added_model_scores_only_its_pairs(long? memoryBudget)
    {
        var cluster = await TestClusters.Start(TestClusters.FileStore(), memoryBudget: memoryBudget);
        try
        {
            var models = AllModels();
            var sweep = cluster.Client.GetGrain<ISweepGrain>("vision");
            await sweep.SubmitAsync(Definition("vision", "fixtures", models.SkipLast(1)));
            var first = await Finish(sweep);
            Assert.Equal(SweepPhase.Completed, first.Phase);
            AssertMatchesManifest(await sweep.GetResultsAsync(), models.SkipLast(1).ToList());

            // Add the last model: exactly its pairs are new (i <= j for the mirrored metrics, every entry for cycle_knn).
            await sweep.SubmitAsync(Definition("vision", "fixtures", models));
            var second = await Finish(sweep);
            Assert.Equal(SweepPhase.Completed, second.Phase);
            var layers = models.ToDictionary(m => m, m => FixtureSet.Load(FileOf(m)).LayerCount);
            string added = models[^1];
            long expectedNew = 0;
            foreach (var metric in Definition("vision", "fixtures", models).Metrics)
            {
                bool mirrored = metric.Name != "cycle_knn";
                foreach (string other in models)
                    expectedNew += other == added ? layers[added] * layers[added] : (mirrored ? 1 : 2) * layers[added] * layers[other];
            }
            Assert.Equal(expectedNew, second.LayerPairsScored - first.LayerPairsScored);
            // Only the added model's row of tiles: with one model per block, it against each block, and
            // (cycle_knn is not mirrored) each block against it.
            if (memoryBudget == TestClusters.OneModelBlocks) Assert.Equal(2 * models.Count - 1, second.Scoring!.TileCount);
            Assert.Equal(second.Scoring!.TileCount, second.Scoring.TilesDone);
            AssertMatchesManifest(await sweep.GetResultsAsync(), models);

            // A second sweep over the same models scores nothing new.
            var again = cluster.Client.GetGrain<ISweepGrain>("vision-again");
            await again.SubmitAsync(Definition("vision-again", "fixtures", models));
            Assert.Equal(SweepPhase.Completed, (await Finish(again)).Phase);
            Assert.Equal(second.LayerPairsScored, (await again.GetStatusAsync()).LayerPairsScored);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Two sweeps over the same models submitted at the same moment: each pair is scored once.</summary>
    [Fact]
    public async Task Concurrent_sweeps_sharing_models_score_each_pair_once()
    {
        var models = VisionModels();
        var alone = await TestClusters.Start(TestClusters.FileStore(), silos: 2);
        long once;
        try
        {
            var sweep = alone.Client.GetGrain<ISweepGrain>("alone");
            await sweep.SubmitAsync(Definition("alone", "fixtures", models));
            once = (await Finish(sweep)).LayerPairsScored;
        }
        finally
        {
            await alone.DisposeAsync();
        }

        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 3);
        try
        {
            var a = cluster.Client.GetGrain<ISweepGrain>("twin-a");
            var b = cluster.Client.GetGrain<ISweepGrain>("twin-b");
            await Task.WhenAll(a.SubmitAsync(Definition("twin-a", "fixtures", models)), b.SubmitAsync(Definition("twin-b", "fixtures", models)));
            var (sa, sb) = (await Finish(a), await Finish(b));
            Assert.Equal(SweepPhase.Completed, sa.Phase);
            Assert.Equal(SweepPhase.Completed, sb.Phase);
            Assert.Equal(once, sa.LayerPairsScored); // both see the shared aggregators' count: the pairs of one sweep
            Assert.Equal(once, sb.LayerPairsScored);
            AssertMatchesManifest(await a.GetResultsAsync(), models);
            AssertMatchesManifest(await b.GetResultsAsync(), models);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task Results_survive_stopping_every_silo()
    {
        var store = TestClusters.FileStore();
        var models = VisionModels().Take(2).ToList();
        var cluster = await TestClusters.Start(store);
        long scored;
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("restart");
            await sweep.SubmitAsync(Definition("restart", "fixtures", models));
            scored = (await Finish(sweep)).LayerPairsScored;
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        var restarted = await TestClusters.Start(store, silos: 2);
        try
        {
            var sweep = restarted.Client.GetGrain<ISweepGrain>("restart");
            var status = await sweep.GetStatusAsync();
            Assert.Equal(SweepPhase.Completed, status.Phase);
            Assert.Equal(scored, status.LayerPairsScored);
            AssertMatchesManifest(await sweep.GetResultsAsync(), models);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }

    /// <summary>Sketch pieces are computed once for the cluster: new silos on the same store load them.</summary>
    [Fact]
    public async Task Sketches_are_stored_once_and_loaded_by_new_silos()
    {
        var store = TestClusters.FileStore();
        var models = VisionModels().Take(3).ToList();
        var first = await TestClusters.Start(store, silos: 2);
        try
        {
            var sweep = first.Client.GetGrain<ISweepGrain>("knn");
            await sweep.SubmitAsync(new SweepDefinition("knn", "fixtures", Definition("x", "fixtures", models).Models, [MetricSpec.Parse("mutual_knn@10")]));
            Assert.Equal(SweepPhase.Completed, (await Finish(sweep)).Phase);
            Assert.Equal(models.Count, PiecesBuilt(first)); // one neighbour-list piece per model, whichever silo built it
        }
        finally
        {
            await first.DisposeAsync();
        }

        var second = await TestClusters.Start(store, silos: 2);
        try
        {
            // cknna@10 reads the same neighbour lists (k = 10) as mutual_knn@10: nothing is rebuilt.
            var sweep = second.Client.GetGrain<ISweepGrain>("cknna");
            await sweep.SubmitAsync(new SweepDefinition("cknna", "fixtures", Definition("x", "fixtures", models).Models, [MetricSpec.Parse("cknna@10")]));
            Assert.Equal(SweepPhase.Completed, (await Finish(sweep)).Phase);
            Assert.Equal(0, PiecesBuilt(second));
            Assert.True(TestClusters.PerSilo<Prh.Grains.Aggregation.TileWorker>(second).Sum(w => w.Service.TilesScored) > 0, "no tile was scored");
            AssertMatchesManifest(await sweep.GetResultsAsync(), models);
        }
        finally
        {
            await second.DisposeAsync();
        }
    }

    private static long PiecesBuilt(Orleans.TestingHost.InProcessTestCluster cluster) =>
        TestClusters.PerSilo<Prh.Grains.Aggregation.TileWorker>(cluster).Sum(w => w.Service.PiecesBuilt);

    [Fact]
    public async Task Bad_input_fails_the_sweep_with_a_clear_message_and_leaves_stored_results_intact()
    {
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 2);
        try
        {
            var models = VisionModels().Take(2).ToList();
            var good = cluster.Client.GetGrain<ISweepGrain>("good");
            await good.SubmitAsync(Definition("good", "fixtures", models));
            Assert.Equal(SweepPhase.Completed, (await Finish(good)).Phase);
            var before = await good.GetResultsAsync();

            // Refused at submission: the message names the field at fault.
            var metrics = new List<MetricSpec> { MetricSpec.Parse("cka") };
            async Task<string> Refused(SweepDefinition d) =>
                (await Assert.ThrowsAnyAsync<Exception>(() => cluster.Client.GetGrain<ISweepGrain>(d.Name).SubmitAsync(d))).Message;
            Assert.Contains("'../x'", await Refused(new("bad1", "fixtures", [new("../x", FileOf(models[0]))], metrics)));
            Assert.Contains("appears twice", await Refused(new("bad2", "fixtures", [new("a", FileOf(models[0])), new("a", FileOf(models[1]))], metrics)));
            // A metric is parsed where it enters (spec file, console): an unknown one or bad arguments never reach a grain.
            Assert.Contains("cosine", Assert.Throws<AlignmentException>(() => MetricSpec.Parse("cosine")).Message);
            Assert.Contains("CKNNA requires topk >= 2", Assert.Throws<AlignmentException>(() => MetricSpec.Parse("cknna@1")).Message);

            // Failed while running: a missing file, and a model whose N differs from the dataset's.
            var missing = cluster.Client.GetGrain<ISweepGrain>("missing");
            await missing.SubmitAsync(new("missing", "fixtures", [new("ghost", "/nonexistent/ghost.npy")], metrics));
            var failed = await Finish(missing);
            Assert.Equal(SweepPhase.Failed, failed.Phase);
            Assert.Contains("/nonexistent/ghost.npy", string.Join(" ", SweepStatusText.Errors(failed)));

            // A model whose N differs fails alone; the sweep goes on with the others.
            string otherN = FixtureSet.Path(FixtureSet.Array("metric_cases").First().GetProperty("inputs").GetProperty("A").GetString()!);
            var mismatch = cluster.Client.GetGrain<ISweepGrain>("mismatch");
            await mismatch.SubmitAsync(new("mismatch", "fixtures", [new(models[0], FileOf(models[0])), new("small", otherN), new(models[1], FileOf(models[1]))], metrics));
            var partial = await Finish(mismatch);
            Assert.Equal(SweepPhase.Completed, partial.Phase);
            Assert.Contains("model 'small' has N = 64", string.Join(" ", SweepStatusText.Errors(partial)));
            Assert.Equal(models, (await mismatch.GetResultsAsync())[0].Models);

            var after = await good.GetResultsAsync();
            for (int m = 0; m < before.Count; m++) Assert.Equal(before[m].Scores, after[m].Scores);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
