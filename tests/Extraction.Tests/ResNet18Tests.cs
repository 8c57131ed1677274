using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction.Tests;

/// <summary>
/// The real pretrained ResNet18 of the NuGet package Microsoft.ML.DnnImageFeaturizer.ResNet18 (input
/// Input247 fixed at [1, 3, 224, 224]) and its ResNetPreprocess.onnx (RGB to BGR, minus a mean image),
/// found through the package folder the build writes into this assembly's metadata.
/// </summary>
public sealed class ResNet18Tests
{
    private const string Input = "Input247", Output = "Pooling395_Output_0", LastBlock = "ReLU393_Output_0";

    /// <summary>The stem's ReLU and the output of each of the nine residual blocks.</summary>
    internal static readonly string[] TenLayers =
    [
        "ReLU253_Output_0", "ReLU269_Output_0", "ReLU283_Output_0", "ReLU301_Output_0", "ReLU315_Output_0",
        "ReLU333_Output_0", "ReLU347_Output_0", "ReLU365_Output_0", "ReLU379_Output_0", LastBlock,
    ];

    internal static readonly string Folder = typeof(ResNet18Tests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "ResNet18Models").Value!;

    internal static readonly string ModelPath = Path.Combine(Folder, "ResNet18Onnx", "ResNet18.onnx");
    internal static readonly string PreprocessPath = Path.Combine(Folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
    private static readonly Lazy<byte[]> Model = new(() => File.ReadAllBytes(ModelPath));

    /// <summary>n images [n, 3, 224, 224]: uniform in [0, scale), float32-exact.</summary>
    internal static Tensor Images(int n, int seed, double scale = 1)
    {
        var random = new Random(seed);
        var values = new double[n * 3 * 224 * 224];
        for (int k = 0; k < values.Length; k++) values[k] = (float)(random.NextDouble() * scale);
        return new Tensor("images", [n, 3, 224, 224], Alignment.IO.TensorDType.Float32, values);
    }

    /// <summary>Runs an unedited model file on one image as it declares ([1, 3, 224, 224]), returning <paramref name="output"/>'s values.</summary>
    private static float[] RunByHand(InferenceSession session, string input, ReadOnlySpan<double> image, string output)
    {
        var data = new float[image.Length];
        for (int k = 0; k < data.Length; k++) data[k] = (float)image[k];
        using var value = OrtValue.CreateTensorValueFromMemory(data, [1, 3, 224, 224]);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [input], [value], [output]);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    [Fact]
    public void Last_block_spatially_mean_pooled_equals_the_models_own_average_pool()
    {
        const int n = 8;
        var images = Images(n, seed: 1);
        using var extractor = new FeatureExtractor(Model.Value, new ExtractionOptions { Layers = LayerSelection.ByNames([LastBlock]) }, "ResNet18.onnx");
        Assert.Equal(new BatchAxis(1, BatchMode.MadeSymbolic), extractor.Batch);
        Assert.Equal([512], extractor.KnownWidths);
        var features = extractor.Extract(new Dictionary<string, Tensor> { [Input] = images });

        using var session = new InferenceSession(ModelPath);
        int size = 3 * 224 * 224;
        var expected = new double[n * 512];
        for (int s = 0; s < n; s++)
        {
            var own = RunByHand(session, Input, images.Values.AsSpan(s * size, size), Output);
            Assert.Equal(512, own.Length);
            for (int c = 0; c < 512; c++) expected[s * 512 + c] = own[c];
        }
        Reference.AssertClose(expected, features.Layers[0].Data, $"{LastBlock} spatial mean vs {Output}");
    }

    [Fact]
    public void Ten_layers_run_batched_without_a_batch_option_and_equal_one_sample_at_a_time()
    {
        const int n = 5;
        var inputs = new Dictionary<string, Tensor> { [Input] = Images(n, seed: 2) };
        var options = new ExtractionOptions { Layers = LayerSelection.ByNames(TenLayers) };
        using var batched = new FeatureExtractor(Model.Value, options, "ResNet18.onnx");
        Assert.Equal(n, batched.SamplesPerRun(n));
        var features = batched.Extract(inputs);

        using var single = new FeatureExtractor(Model.Value, options with { BatchSize = 1 }, "ResNet18.onnx");
        var expected = single.Extract(inputs);
        Assert.Equal([64, 64, 64, 128, 128, 256, 256, 512, 512, 512], features.Layers.Select(l => l.Width));
        for (int l = 0; l < TenLayers.Length; l++)
            Reference.AssertClose(expected.Layers[l].Data, features.Layers[l].Data, TenLayers[l]);
    }

    [Fact]
    public void Preprocessing_chain_equals_running_both_models_by_hand()
    {
        const int n = 3;
        var pixels = Images(n, seed: 3, scale: 256);
        using var extractor = new FeatureExtractor(Model.Value, new ExtractionOptions
        {
            Layers = LayerSelection.ByNames([Output, LastBlock]),
            Preprocess = File.ReadAllBytes(PreprocessPath),
            PreprocessSource = "ResNetPreprocess.onnx",
        }, "ResNet18.onnx");
        Assert.Equal(["OriginalInput"], extractor.Inputs.Select(i => i.Name));
        Assert.Equal(new BatchAxis(1, BatchMode.MadeSymbolic), extractor.PreprocessBatch);
        var features = extractor.Extract(new Dictionary<string, Tensor> { ["OriginalInput"] = pixels });

        using var preprocess = new InferenceSession(PreprocessPath);
        using var model = new InferenceSession(ModelPath);
        int size = 3 * 224 * 224;
        var expected = new double[n * 512];
        for (int s = 0; s < n; s++)
        {
            var prepared = RunByHand(preprocess, "OriginalInput", pixels.Values.AsSpan(s * size, size), "PreprocessedInput");
            var own = RunByHand(model, Input, prepared.Select(v => (double)v).ToArray(), Output);
            for (int c = 0; c < 512; c++) expected[s * 512 + c] = own[c];
        }
        Reference.AssertClose(expected, features.Layers[0].Data, $"{Output} through ResNetPreprocess");
        Reference.AssertClose(features.Layers[0].Data, features.Layers[1].Data, $"{LastBlock} spatial mean through ResNetPreprocess");

        // The caller's one tensor feeds the preprocessing model's one input whatever its name.
        var renamed = extractor.Extract(new Dictionary<string, Tensor> { ["image"] = pixels });
        Assert.Equal(features.Layers[0].Data, renamed.Layers[0].Data);
    }
}
