using Prh.Alignment.Metrics;
using Prh.Contracts.Datasets;
using Prh.Contracts.Sweeps;
using Prh.Extraction;
using Prh.Extraction.Datasets;
using Prh.Extraction.Onnx;

namespace Prh.Client.Real;

/// <summary>
/// The sweep of <c>prh demo real</c>, written under a folder: the samples file of N Tux Paint stamps (the
/// dataset is built from it on the silo: 224 x 224 RGB pixels in [0, 1], BERT uncased token ids, T = 64),
/// the preprocessing models each vision network expects, the shuffled-weights ResNet18, and sweep.yaml (the
/// same sweep for <c>prh sweep submit</c>).
/// </summary>
public static class RealSweep
{
    public const string ResNet18 = "resnet18", ShuffledResNet18 = "resnet18_shuffled", OcrDetection = "ppocr_det", OcrDirection = "ppocr_cls";
    public const string MiniLm = "minilm", ArcticXs = "arctic_xs";
    public const int TopK = 10, ImageSize = 224, MaxTokens = 64;

    /// <summary>The seed of the shuffled ResNet18's permutations.</summary>
    public const int ShuffleSeed = 1;

    /// <summary>ResNet18's stem ReLU and the output of each of its eight residual blocks, then the global average pool.</summary>
    public static readonly string[] ResNetLayers =
    [
        "ReLU253_Output_0", "ReLU269_Output_0", "ReLU283_Output_0", "ReLU301_Output_0", "ReLU315_Output_0",
        "ReLU333_Output_0", "ReLU347_Output_0", "ReLU365_Output_0", "ReLU379_Output_0", "ReLU393_Output_0",
    ];

    /// <summary>
    /// The hidden states of the 6-layer BERT encoders, as Hugging Face's output_hidden_states gives them: the
    /// embeddings' LayerNorm and each layer's output LayerNorm (the second of its two), the last being
    /// last_hidden_state. Arctic-embed-xs's export keeps the module paths; MiniLM's numbers its tensors.
    /// </summary>
    public static readonly string[] ArcticHiddenStates =
    [
        "/embeddings/LayerNorm/Add_1_output_0",
        .. Enumerable.Range(0, 5).Select(l => $"/encoder/layer.{l}/output/LayerNorm/Add_1_output_0"),
        "last_hidden_state",
    ];

    /// <inheritdoc cref="ArcticHiddenStates"/>
    public static readonly string[] MiniLmHiddenStates = ["146", "275", "404", "533", "662", "791", "last_hidden_state"];

    public static readonly MetricSpec[] Metrics =
        [MetricSpec.Parse($"mutual_knn@{TopK}"), MetricSpec.Parse($"cknna@{TopK}"), MetricSpec.Parse("cka"), MetricSpec.Parse("unbiased_cka")];

    /// <summary>Writes the samples file, the preprocessing models and the shuffled network under <paramref name="folder"/>; the sweep and its sample count.</summary>
    public static (SweepDefinition Definition, int Samples) Write(RealAssets assets, string folder, int samples)
    {
        string models = Path.Combine(folder, "models");
        Directory.CreateDirectory(models);
        string samplesFile = Path.Combine(folder, "samples.tsv");
        int n = TuxpaintStamps.WriteSamples(assets.Stamps, samplesFile, samples);

        string Model(string name, Func<byte[]> bytes)
        {
            string path = Path.Combine(models, name);
            if (!File.Exists(path)) File.WriteAllBytes(path, bytes());
            return path;
        }
        // ResNetPreprocess takes pixels in [0, 255] (BGR, minus ImageNet's mean image); the dataset's are in [0, 1].
        string resnetPrep = Model("resnet-preprocess.onnx", () => OnnxGraph.Load(assets.ResNetPreprocess).WithScaledInput(255).ToBytes());
        string shuffled = Model($"resnet18-shuffled-{ShuffleSeed}.onnx", () => OnnxGraph.Load(assets.ResNet18).WithShuffledWeights(ShuffleSeed).ToBytes());
        float[] imageNetMean = [.. ImageInput.ImageNetMean.Select(v => (float)v)], imageNetStd = [.. ImageInput.ImageNetStd.Select(v => (float)v)];
        // PP-OCR's detector normalises with ImageNet's statistics; its direction classifier reads 48 x 192 text lines scaled to [-1, 1].
        string detPrep = Model("ppocr-det-preprocess.onnx", () => OnnxModelBuilder.ImagePreprocess(imageNetMean, imageNetStd));
        string clsPrep = Model("ppocr-cls-preprocess.onnx", () => OnnxModelBuilder.ImagePreprocess([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f], (48, 192)));

        var pixels = new Dictionary<string, string> { ["OriginalInput"] = "pixels" };
        var definition = new SweepDefinition("real", $"tuxpaint-{n}",
        [
            new(ResNet18, null, new OnnxSource(assets.ResNet18, ResNetLayers, Pool: Pooling.SpatialMean, Inputs: pixels, Preprocess: resnetPrep)),
            new(ShuffledResNet18, null, new OnnxSource(shuffled, ResNetLayers, Pool: Pooling.SpatialMean, Inputs: pixels, Preprocess: resnetPrep)),
            new(OcrDetection, null, new OnnxSource(assets.OcrDetection, LayerOp: "GlobalAveragePool", Pool: Pooling.SpatialMean, Preprocess: detPrep)),
            new(OcrDirection, null, new OnnxSource(assets.OcrDirection, LayerOp: "GlobalAveragePool", Pool: Pooling.SpatialMean, Preprocess: clsPrep)),
            new(MiniLm, null, new OnnxSource(assets.MiniLm, MiniLmHiddenStates, Pool: Pooling.Mean, Mask: "attention_mask")),
            new(ArcticXs, null, new OnnxSource(assets.ArcticXs, ArcticHiddenStates, Pool: Pooling.Mean, Mask: "attention_mask")),
        ], Metrics, new DatasetSource(null, new DatasetBuild(samplesFile, ImageSize, Normalize: false, assets.Vocabulary, MaxTokens)), ShardSize: 64);
        File.WriteAllText(Path.Combine(folder, "sweep.yaml"), Yaml(definition, folder));
        return (definition, n);
    }

    /// <summary>The sweep as a spec file for <c>prh sweep submit</c>, paths under the folder written relative to it, the cache's in full.</summary>
    private static string Yaml(SweepDefinition definition, string folder)
    {
        string Path(string p) => p.StartsWith(folder + System.IO.Path.DirectorySeparatorChar, StringComparison.Ordinal) ? System.IO.Path.GetRelativePath(folder, p) : p;
        string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(i => $"\"{i}\"")) + "]";
        var build = definition.Data!.Build!;
        var lines = new List<string>
        {
            $"name: {definition.Name}", $"dataset: {definition.Dataset}", $"shard_size: {definition.ShardSize}",
            "build:", $"  samples: {Path(build.Samples)}", $"  image_size: {build.ImageSize}", "  normalize: false", $"  vocab: {build.Vocab}", $"  max_tokens: {build.MaxTokens}",
            "models:",
        };
        foreach (var model in definition.Models)
        {
            var onnx = model.Onnx!;
            lines.Add($"  - id: {model.Id}");
            lines.Add($"    onnx: {Path(onnx.Path)}");
            lines.Add(onnx.Layers is { } layers ? $"    layers: {List(layers)}" : $"    layer_op: {onnx.LayerOp}");
            lines.Add($"    pool: {PoolingNames.Name(onnx.Pool)}");
            if (onnx.Mask is { } mask) lines.Add($"    mask: {mask}");
            if (onnx.Preprocess is { } prep) lines.Add($"    preprocess: {Path(prep)}");
            foreach (var (input, datasetInput) in onnx.Inputs ?? new Dictionary<string, string>()) lines.Add($"    inputs: {{{input}: {datasetInput}}}");
        }
        lines.Add("metrics:");
        foreach (var m in definition.Metrics)
        {
            lines.Add($"  - name: {m.Name}");
            if (m.TopK is { } k) lines.Add($"    topk: {k}");
        }
        return string.Join("\n", lines) + "\n";
    }
}
