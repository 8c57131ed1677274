using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Client.Sweeps;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;
using Prh.Extraction;
using Prh.Extraction.Onnx;
using Prh.Grains.Onnx;
using Prh.TestSupport;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>ONNX models in sweeps: sharded extraction on the silos, cached outputs, GPU-first placement, bad models.</summary>
public sealed class ExtractionSweepTests
{
    private const int Samples = 50, InputWidth = 12, Tokens = 4;

    /// <summary>A folder with two MLPs, a token model, a truncated model and the dataset's inputs.</summary>
    private static (string Folder, Dictionary<string, string> Inputs) Zoo()
    {
        string folder = Directory.CreateTempSubdirectory("prh-onnx-sweep-").FullName;
        File.WriteAllBytes(Path.Combine(folder, "mlp_a.onnx"), OnnxModelBuilder.Mlp(InputWidth, [32, 32], seed: 1).Bytes);
        File.WriteAllBytes(Path.Combine(folder, "mlp_b.onnx"), OnnxModelBuilder.Mlp(InputWidth, [48, 24], seed: 2).Bytes);
        File.WriteAllBytes(Path.Combine(folder, "tokens.onnx"), OnnxModelBuilder.TokenModel(InputWidth / Tokens, 16, 2, Tokens, seed: 3).Bytes);
        byte[] whole = File.ReadAllBytes(Path.Combine(folder, "mlp_a.onnx"));
        File.WriteAllBytes(Path.Combine(folder, "truncated.onnx"), whole[..(whole.Length / 2)]);
        var random = new Random(4);
        var x = Enumerable.Range(0, Samples * InputWidth).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var mask = Enumerable.Range(0, Samples * Tokens).Select(i => i % Tokens < 1 + (i / Tokens) % Tokens ? 1.0 : 0.0).ToArray();
        NpyFile.Write(Path.Combine(folder, "x.npy"), [Samples, InputWidth], x);
        // The same samples as tokens: each row of x cut into Tokens pieces.
        NpyFile.Write(Path.Combine(folder, "tokens.npy"), [Samples, Tokens, InputWidth / Tokens], x);
        NpyFile.Write(Path.Combine(folder, "mask.npy"), [Samples, Tokens], mask);
        return (folder, new() { ["x"] = Path.Combine(folder, "x.npy"), ["tokens"] = Path.Combine(folder, "tokens.npy"), ["mask"] = Path.Combine(folder, "mask.npy") });
    }

    private static SweepDefinition Definition(string name, string folder, Dictionary<string, string> inputs, int shardSize, bool withBadModels = false)
    {
        var models = new List<ModelDefinition>
        {
            new("mlp_a", null, new OnnxSource(Path.Combine(folder, "mlp_a.onnx"), LayerOp: "Relu", Pool: Pooling.None)),
            new("mlp_b", null, new OnnxSource(Path.Combine(folder, "mlp_b.onnx"), Layers: ["layer0/relu", "layer1/relu"], Pool: Pooling.None)),
            new("tokens", null, new OnnxSource(Path.Combine(folder, "tokens.onnx"), LayerOp: "Add", Pool: Pooling.Mean, Mask: "mask",
                Inputs: new Dictionary<string, string> { ["x"] = "tokens" })),
        };
        if (withBadModels)
        {
            models.Add(new("unknown_layer", null, new OnnxSource(Path.Combine(folder, "mlp_a.onnx"), Layers: ["layer9/relu"], Pool: Pooling.None)));
            models.Add(new("truncated", null, new OnnxSource(Path.Combine(folder, "truncated.onnx"), LayerOp: "Relu", Pool: Pooling.None)));
        }
        return new SweepDefinition(name, "onnx-data", models, [MetricSpec.Parse("mutual_knn@5"), MetricSpec.Parse("cka")], new DatasetSource(inputs), shardSize);
    }

    private static async Task<Dictionary<string, string>> Run(Orleans.TestingHost.InProcessTestCluster cluster, SweepDefinition definition)
    {
        var sweep = cluster.Client.GetGrain<ISweepGrain>(definition.Name);
        await sweep.SubmitAsync(definition);
        var status = await SweepTests.Finish(sweep);
        Assert.True(status.Phase == SweepPhase.Completed, string.Join("; ", SweepStatusText.Errors(status)));
        var hashes = new Dictionary<string, string>();
        foreach (var model in definition.Models)
        {
            if ((await Extracted(cluster, definition, model.Id))?.Features is { } f) hashes[model.Id] = f.Blob.Sha256;
        }
        return hashes;
    }

    /// <summary>The model's extraction for this sweep (joined, or found done; the ticket names the request).</summary>
    private static async Task<ExtractionProgress?> Extracted(Orleans.TestingHost.InProcessTestCluster cluster, SweepDefinition definition, string model)
    {
        var grain = cluster.Client.GetGrain<IModelGrain>($"{definition.Dataset}/{model}");
        var source = definition.Models.Single(m => m.Id == model).Onnx!;
        return await grain.GetExtractionAsync(await grain.StartExtractionAsync(source, definition.Data!, definition.ShardSize));
    }

    [Fact]
    public async Task Sharded_extraction_on_three_silos_equals_one_silo_bit_for_bit_and_a_rerun_extracts_nothing()
    {
        var (folder, inputs) = Zoo();
        var three = await TestClusters.Start(TestClusters.FileStore(), silos: 3);
        Dictionary<string, string> sharded;
        try
        {
            sharded = await Run(three, Definition("sharded", folder, inputs, shardSize: 7));
            long extracted = TestClusters.PerSilo<OnnxSessions>(three).Sum(s => s.Service.ShardsExtracted);
            Assert.Equal(3 * (Samples + 6) / 7, extracted); // 8 shards per model

            var again = await Run(three, Definition("sharded-again", folder, inputs, shardSize: 7));
            Assert.Equal(sharded, again);
            Assert.Equal(extracted, TestClusters.PerSilo<OnnxSessions>(three).Sum(s => s.Service.ShardsExtracted));

            var status = await three.Client.GetGrain<ISweepGrain>("sharded").GetStatusAsync();
            Assert.Contains(status.Extractions.Select(SweepStatusText.Extraction), line => line.StartsWith("tokens: 8/8 shards on CPUExecutionProvider@"));
        }
        finally
        {
            await three.DisposeAsync();
        }

        var one = await TestClusters.Start(TestClusters.FileStore(), silos: 1);
        try
        {
            Assert.Equal(sharded, await Run(one, Definition("single", folder, inputs, shardSize: 7)));
        }
        finally
        {
            await one.DisposeAsync();
        }
    }

    [Fact]
    public async Task Extraction_goes_to_the_gpu_silo_when_there_is_one_and_spreads_otherwise()
    {
        var (folder, inputs) = Zoo();
        var marked = await TestClusters.Start(TestClusters.FileStore(), 3, gpuSilos: [1]);
        try
        {
            await Run(marked, Definition("gpu", folder, inputs, shardSize: 5));
            var silos = TestClusters.PerSilo<OnnxSessions>(marked);
            Assert.Equal(1, silos.Count(s => s.Metadata.GetValueOrDefault("accelerator") == "gpu"));
            Assert.All(silos, s => Assert.Equal(s.Metadata.GetValueOrDefault("accelerator") == "gpu", s.Service.ShardsExtracted > 0));
        }
        finally
        {
            await marked.DisposeAsync();
        }

        var unmarked = await TestClusters.Start(TestClusters.FileStore(), silos: 3);
        try
        {
            await Run(unmarked, Definition("cpu", folder, inputs, shardSize: 5));
            Assert.True(TestClusters.PerSilo<OnnxSessions>(unmarked).Count(s => s.Service.ShardsExtracted > 0) >= 2,
                "30 shard activations all landed on one silo");
        }
        finally
        {
            await unmarked.DisposeAsync();
        }
    }

    /// <summary>The silo running the extraction is stopped mid-way: the sweep still finishes, with the same features.</summary>
    [Fact]
    public async Task Stopping_the_extracting_silo_mid_extraction_still_finishes_the_sweep()
    {
        string folder = Directory.CreateTempSubdirectory("prh-onnx-kill-").FullName;
        const int n = 2000, width = 256;
        File.WriteAllBytes(Path.Combine(folder, "big.onnx"), OnnxModelBuilder.Mlp(width, [2048, 2048, 2048], seed: 5).Bytes);
        var random = new Random(6);
        NpyFile.Write(Path.Combine(folder, "x.npy"), [n, width], Enumerable.Range(0, n * width).Select(_ => random.NextDouble()).ToArray());
        var inputs = new Dictionary<string, string> { ["x"] = Path.Combine(folder, "x.npy") };
        SweepDefinition Big(string name) => new(name, "big-data",
            [new("big", null, new OnnxSource(Path.Combine(folder, "big.onnx"), LayerOp: "Relu", Pool: Pooling.None))],
            [MetricSpec.Parse("mutual_knn@10")], new DatasetSource(inputs), ShardSize: 50);

        // Silo 2 (not the primary, which hosts the test cluster's membership) is the GPU silo: it gets every shard.
        var cluster = await TestClusters.Start(TestClusters.FileStore(), 3, gpuSilos: [2]);
        string killed;
        try
        {
            var sweep = cluster.Client.GetGrain<ISweepGrain>("kill");
            await sweep.SubmitAsync(Big("kill"));
            var gpu = cluster.Silos[2];
            killed = gpu.SiloAddress.ToString();
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (true)
            {
                var line = (await sweep.GetStatusAsync()).Extractions.Select(SweepStatusText.Extraction).FirstOrDefault() ?? "";
                var done = System.Text.RegularExpressions.Regex.Match(line, @": (\d+)/(\d+) shards");
                if (done.Success && int.Parse(done.Groups[1].Value) > 0)
                {
                    Assert.True(int.Parse(done.Groups[1].Value) < int.Parse(done.Groups[2].Value), $"extraction finished before the silo could be stopped: {line}");
                    break;
                }
                Assert.True(DateTime.UtcNow < deadline, "no shard finished in 2 minutes");
                await Task.Delay(20);
            }
            await cluster.StopSiloAsync(gpu);
            var status = await SweepTests.Finish(sweep);
            Assert.True(status.Phase == SweepPhase.Completed, string.Join("; ", SweepStatusText.Errors(status)));
            var hash = (await Extracted(cluster, Big("kill"), "big"))!.Features!.Blob.Sha256;

            var reference = await TestClusters.Start(TestClusters.FileStore(), silos: 1);
            try
            {
                Assert.Equal((await Run(reference, Big("reference")))["big"], hash);
            }
            finally
            {
                await reference.DisposeAsync();
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
        Assert.NotEmpty(killed);
    }

    /// <summary>
    /// A preprocessing model runs on the silos, shard by shard, before the model: the features equal one local
    /// extraction through both models, and differ from the same model without it (its outputs are cached apart).
    /// </summary>
    [Fact]
    public async Task A_preprocessing_model_runs_before_the_model_on_the_silos()
    {
        var (folder, inputs) = Zoo();
        string prep = Path.Combine(folder, "prep.onnx"), model = Path.Combine(folder, "mlp_a.onnx");
        File.WriteAllBytes(prep, OnnxModelBuilder.Mlp(InputWidth, [InputWidth], seed: 7).Bytes);
        var store = TestClusters.FileStore();
        var cluster = await TestClusters.Start(store, silos: 2);
        try
        {
            var definition = new SweepDefinition("prep", "onnx-data",
            [
                new("plain", null, new OnnxSource(model, LayerOp: "Relu", Pool: Pooling.None)),
                new("prepped", null, new OnnxSource(model, LayerOp: "Relu", Pool: Pooling.None, Preprocess: prep)),
            ], [MetricSpec.Parse("cka")], new DatasetSource(inputs), ShardSize: 16);
            var hashes = await Run(cluster, definition);
            Assert.NotEqual(hashes["plain"], hashes["prepped"]);

            var stored = (await Extracted(cluster, definition, "prepped"))!.Features!;
            string copy = Path.Combine(folder, "prepped." + stored.Format.Extension());
            File.WriteAllBytes(copy, await new Prh.Grains.Storage.FileBlobStore(store.DataDirectory!).GetAsync(stored.Blob));
            var onSilos = FeatureFile.Load(copy, stored.Format);
            using var local = FeatureExtractor.FromFile(model, new ExtractionOptions
            {
                Layers = LayerSelection.ByOp("Relu"),
                Pooling = Pooling.None,
                Preprocess = File.ReadAllBytes(prep),
            });
            var expected = local.Extract(new Dictionary<string, Tensor> { ["x"] = NpyFile.Read(inputs["x"]) });
            Assert.Equal(expected.Layers.Count, onSilos.Layers.Count);
            for (int l = 0; l < expected.Layers.Count; l++)
            {
                var (want, got) = (expected.Layers[l].Data, onSilos.Layers[l].Data);
                Assert.Equal(want.Length, got.Length);
                Assert.True(want.Zip(got).All(p => Math.Abs(p.First - p.Second) <= 1e-6), $"prepped layer {l} differs from the local extraction");
            }
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    /// <summary>Models named by stored blob (what prh store put prints) instead of by path, for ONNX and for features.</summary>
    [Fact]
    public async Task Models_given_as_stored_blobs_equal_the_same_files_given_by_path()
    {
        var (folder, inputs) = Zoo();
        string features = Path.Combine(folder, "features.npy");
        FeatureFile.Save(features, Prh.Alignment.Features.SyntheticZoo.Model("f", Samples, 3, 8, seed: 9));
        var store = TestClusters.FileStore();
        var put = PrhProcess.Run("store", "put", "--data", store.DataDirectory, Path.Combine(folder, "mlp_a.onnx"), features);
        Assert.True(put.ExitCode == 0, put.Stderr);
        var names = put.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split("  ")[0]).ToList();
        Assert.Equal(2, names.Count);
        Assert.All(names, n => Assert.True(Prh.Contracts.Storage.BlobRef.TryParseUri(n, out _), n));

        var cluster = await TestClusters.Start(store, silos: 2);
        try
        {
            var definition = new SweepDefinition("blobs", "onnx-data",
            [
                new("mlp_path", null, new OnnxSource(Path.Combine(folder, "mlp_a.onnx"), LayerOp: "Relu", Pool: Pooling.None)),
                new("mlp_blob", null, new OnnxSource(names[0], LayerOp: "Relu", Pool: Pooling.None)),
                new("features_path", features),
                new("features_blob", names[1]),
            ], [MetricSpec.Parse("mutual_knn@5")], new DatasetSource(inputs), ShardSize: 20);
            var sweep = cluster.Client.GetGrain<ISweepGrain>("blobs");
            await sweep.SubmitAsync(definition);
            var status = await SweepTests.Finish(sweep);
            Assert.True(status.Phase == SweepPhase.Completed && !SweepStatusText.Errors(status).Any(), string.Join("; ", SweepStatusText.Errors(status)));
            var matrix = (await sweep.GetResultsAsync())[0];
            Assert.Equal(1.0, matrix.Scores[0][1], 12); // the same network, so the same features
            Assert.Equal(1.0, matrix.Scores[2][3], 12);
            var path = await Extracted(cluster, definition, "mlp_path");
            var blob = await Extracted(cluster, definition, "mlp_blob");
            Assert.Equal(path!.Features!.Blob, blob!.Features!.Blob);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_bad_model_fails_alone_with_a_clear_error_and_the_sweep_goes_on()
    {
        var (folder, inputs) = Zoo();
        var cluster = await TestClusters.Start(TestClusters.FileStore(), silos: 2);
        try
        {
            var definition = Definition("bad", folder, inputs, shardSize: 25, withBadModels: true);
            var sweep = cluster.Client.GetGrain<ISweepGrain>("bad");
            await sweep.SubmitAsync(definition);
            var status = await SweepTests.Finish(sweep);
            Assert.Equal(SweepPhase.Completed, status.Phase);
            string errors = string.Join("\n", SweepStatusText.Errors(status));
            Assert.Contains("model 'unknown_layer'", errors);
            Assert.Contains("layer9/relu", errors);
            Assert.Contains("model 'truncated'", errors);
            Assert.Contains("truncated.onnx", errors);
            var results = await sweep.GetResultsAsync();
            Assert.Equal(["mlp_a", "mlp_b", "tokens"], results[0].Models);
            Assert.All(results, r => Assert.All(r.Scores.Select((row, i) => row[i]), d => Assert.True(d > 0.99)));

            // A dataset whose inputs disagree on N is refused for every ONNX model, by name.
            NpyFile.Write(Path.Combine(folder, "short.npy"), [Samples - 1, Tokens], new double[(Samples - 1) * Tokens]);
            var mismatched = new Dictionary<string, string>(inputs) { ["mask"] = Path.Combine(folder, "short.npy") };
            var other = cluster.Client.GetGrain<ISweepGrain>("bad-inputs");
            await other.SubmitAsync(Definition("bad-inputs", folder, mismatched, shardSize: 25));
            var failed = await SweepTests.Finish(other);
            Assert.Equal(SweepPhase.Failed, failed.Phase);
            Assert.Contains("different N", string.Join(" ", SweepStatusText.Errors(failed)));
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }
}
