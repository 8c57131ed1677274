using Prh.Alignment.Features;
using Prh.Extraction.Onnx;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction.Tests;

/// <summary>
/// Features extracted through ONNX Runtime equal the builder's networks computed directly, for every
/// pooling mode, with a batch size that does not divide N.
/// </summary>
public sealed class ExtractionTests
{
    private const int N = 13, Batch = 5;

    internal static readonly BuiltMlp Mlp = OnnxModelBuilder.Mlp(5, [8, 6, 7], seed: 11);
    internal static readonly BuiltTokenModel Tokens = OnnxModelBuilder.TokenModel(4, 6, depth: 2, tokens: 5, seed: 12);

    private static ModelFeatures Extract(byte[] model, LayerSelection layers, Pooling pooling, string? mask,
        Dictionary<string, Tensor> inputs, int batch = Batch)
    {
        using var extractor = new FeatureExtractor(model, new ExtractionOptions
        {
            Layers = layers,
            Pooling = pooling,
            MaskInput = mask,
            BatchSize = batch,
        });
        Assert.Contains(extractor.ExecutionProvider, new[] { FeatureExtractor.Cpu, FeatureExtractor.Cuda });
        return extractor.Extract(inputs);
    }

    internal static Dictionary<string, Tensor> MlpInputs(int n = N) =>
        new() { ["x"] = Reference.Tensor("x", [n, 5], Reference.Floats(n * 5, seed: 1)) };

    internal static Dictionary<string, Tensor> TokenInputs(int n = N) => new()
    {
        ["x"] = Reference.Tensor("x", [n, 5, 4], Reference.Floats(n * 5 * 4, seed: 2)),
        ["mask"] = Reference.Tensor("mask", [n, 5], Reference.Mask(n, 5)),
    };

    [Theory]
    [InlineData(Pooling.None)]
    [InlineData(Pooling.Mean)]
    [InlineData(Pooling.First)]
    [InlineData(Pooling.Last)]
    public void Mlp_layers_equal_the_network_computed_directly_for_every_pooling(Pooling pooling)
    {
        var inputs = MlpInputs();
        var expected = Reference.Mlp(Mlp, inputs["x"].Values, N);
        string[] names = ["layer1/add", "y", "layer0/matmul", "layer2/relu"];
        var features = Extract(Mlp.Bytes, LayerSelection.ByNames(names), pooling, mask: null, inputs);

        Assert.Equal(N, features.SampleCount);
        Assert.Equal([6, 7, 8, 7], features.Layers.Select(l => l.Width));
        for (int l = 0; l < names.Length; l++)
            Reference.AssertClose(Reference.Pool(expected[names[l]], 1, pooling, null), features.Layers[l].Data, $"{names[l]} ({pooling})");
    }

    [Theory]
    [InlineData(Pooling.Mean, true)]
    [InlineData(Pooling.First, true)]
    [InlineData(Pooling.Last, true)]
    [InlineData(Pooling.Mean, false)]
    [InlineData(Pooling.First, false)]
    [InlineData(Pooling.Last, false)]
    public void Token_model_layers_equal_the_network_computed_directly_for_every_pooling(Pooling pooling, bool masked)
    {
        var inputs = TokenInputs();
        var expected = Reference.Token(Tokens, inputs["x"].Values, N);
        var selection = LayerSelection.ByOp("Add");
        var features = Extract(Tokens.Bytes, selection, pooling, masked ? "mask" : null, inputs);

        string[] adds = ["embed/add", "block0/fc1_add", "block0/fc2_add", "block0/residual", "block1/fc1_add", "block1/fc2_add", "block1/residual"];
        Assert.Equal(adds.Length, features.LayerCount);
        double[]? mask = masked ? inputs["mask"].Values : null;
        for (int l = 0; l < adds.Length; l++)
            Reference.AssertClose(Reference.Pool(expected[adds[l]], 5, pooling, mask), features.Layers[l].Data, $"{adds[l]} ({pooling}, mask {masked})");
    }

    [Fact]
    public void Masked_pooling_ignores_padded_tokens_and_differs_from_unmasked()
    {
        var inputs = TokenInputs();
        var masked = Extract(Tokens.Bytes, LayerSelection.ByNames(["y"]), Pooling.Mean, "mask", inputs);
        var plain = Extract(Tokens.Bytes, LayerSelection.ByNames(["y"]), Pooling.Mean, null, inputs);
        // Sample 0 has one valid token of five: the masked mean is token 0, the plain mean is not.
        var first = Extract(Tokens.Bytes, LayerSelection.ByNames(["y"]), Pooling.First, "mask", inputs);
        Assert.Equal(first.Layers[0].Data.AsSpan(0, 6).ToArray(), masked.Layers[0].Data.AsSpan(0, 6).ToArray());
        Assert.NotEqual(masked.Layers[0].Data.AsSpan(0, 6).ToArray(), plain.Layers[0].Data.AsSpan(0, 6).ToArray());

        // Changing padded positions' inputs changes nothing masked pooling returns.
        var changed = TokenInputs();
        var x = (double[])changed["x"].Values.Clone();
        var mask = changed["mask"].Values;
        for (int s = 0; s < N; s++)
            for (int t = 0; t < 5; t++)
                if (mask[s * 5 + t] == 0)
                    for (int d = 0; d < 4; d++) x[(s * 5 + t) * 4 + d] = 7.5;
        changed["x"] = changed["x"] with { Values = x };
        foreach (var pooling in new[] { Pooling.Mean, Pooling.Last })
        {
            var before = Extract(Tokens.Bytes, LayerSelection.ByOp("Relu"), pooling, "mask", inputs);
            var after = Extract(Tokens.Bytes, LayerSelection.ByOp("Relu"), pooling, "mask", changed);
            for (int l = 0; l < before.LayerCount; l++) Assert.Equal(before.Layers[l].Data, after.Layers[l].Data);
        }
    }

    [Fact]
    public void Token_id_model_takes_int64_ids_given_as_doubles()
    {
        var model = OnnxModelBuilder.TokenModel(11, 6, depth: 1, tokens: 5, seed: 13, tokenIds: true);
        var random = new Random(3);
        var ids = Enumerable.Range(0, N * 5).Select(_ => (double)random.Next(11)).ToArray();
        var inputs = new Dictionary<string, Tensor>
        {
            ["x"] = Reference.Tensor("x", [N, 5], ids),
            ["mask"] = Reference.Tensor("mask", [N, 5], Reference.Mask(N, 5)),
        };
        using (var extractor = new FeatureExtractor(model.Bytes, new ExtractionOptions { Layers = LayerSelection.ByOp("Add"), MaskInput = "mask", BatchSize = Batch }))
            Assert.Equal(Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Int64, extractor.Inputs.Single(i => i.Name == "x").ElementType);
        var expected = Reference.Token(model, ids, N);
        var features = Extract(model.Bytes, LayerSelection.ByNames(["embed/gather", "block0/residual"]), Pooling.Mean, "mask", inputs);
        Reference.AssertClose(Reference.Pool(expected["embed/gather"], 5, Pooling.Mean, inputs["mask"].Values), features.Layers[0].Data, "embed/gather");
        Reference.AssertClose(Reference.Pool(expected["block0/residual"], 5, Pooling.Mean, inputs["mask"].Values), features.Layers[1].Data, "block0/residual");
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(13)]
    [InlineData(100)]
    public void Batch_size_does_not_change_the_features(int batch)
    {
        var inputs = TokenInputs();
        var reference = Extract(Tokens.Bytes, LayerSelection.ByOp("Relu"), Pooling.Mean, "mask", inputs, batch: Batch);
        var features = Extract(Tokens.Bytes, LayerSelection.ByOp("Relu"), Pooling.Mean, "mask", inputs, batch);
        for (int l = 0; l < reference.LayerCount; l++)
            Reference.AssertClose(reference.Layers[l].Data, features.Layers[l].Data, $"batch {batch} layer {l}");
    }

    [Fact]
    public void One_extractor_serves_many_calls()
    {
        using var extractor = new FeatureExtractor(Mlp.Bytes, new ExtractionOptions { Layers = LayerSelection.ByOp("Relu"), BatchSize = Batch });
        Assert.Equal(["layer0/relu", "layer1/relu", "layer2/relu"], extractor.Layers);
        Assert.Equal([8, 6, 7], extractor.KnownWidths);
        var small = extractor.Extract(MlpInputs(3));
        var large = extractor.Extract(MlpInputs(N));
        var again = extractor.Extract(MlpInputs(3));
        Assert.Equal(3, small.SampleCount);
        Assert.Equal(N, large.SampleCount);
        for (int l = 0; l < 3; l++)
        {
            Assert.Equal(small.Layers[l].Data, again.Layers[l].Data);
            var expected = Reference.Mlp(Mlp, MlpInputs(N)["x"].Values, N)[$"layer{l}/relu"];
            Reference.AssertClose(Reference.Pool(expected, 1, Pooling.None, null), large.Layers[l].Data, $"layer{l}/relu");
        }
    }

    [Fact]
    public void Layer_selection_by_op_type_lists_outputs_in_graph_order()
    {
        var tokens = OnnxGraph.Parse(Tokens.Bytes);
        // The embedding's bias add comes first, then each block's fc1 bias, fc2 bias and residual adds.
        Assert.Equal(["embed/add", "block0/fc1_add", "block0/fc2_add", "block0/residual", "block1/fc1_add", "block1/fc2_add", "block1/residual"],
            tokens.TensorsByOp("Add"));
        Assert.Equal(["embed/matmul", "block0/fc1_matmul", "block0/fc2_matmul", "block1/fc1_matmul", "block1/fc2_matmul"], tokens.TensorsByOp("MatMul"));
        Assert.Equal(["block0/relu", "block1/relu"], tokens.TensorsByOp("Relu"));
        Assert.Equal(["y"], tokens.TensorsByOp("Identity"));
        Assert.Empty(tokens.TensorsByOp("add")); // op types are case-sensitive

        var mlp = OnnxGraph.Parse(Mlp.Bytes);
        Assert.Equal(["layer0/matmul", "layer0/add", "layer0/relu", "layer1/matmul", "layer1/add", "layer1/relu",
            "layer2/matmul", "layer2/add", "layer2/relu", "y"], mlp.Tensors.Select(t => t.Name));
        Assert.Equal(["MatMul", "Add", "Relu"], mlp.Tensors.Take(3).Select(t => t.OpType));
        Assert.Equal(["x"], mlp.Inputs.Select(i => i.Name));
        Assert.Equal(["batch", "5"], mlp.Inputs[0].Shape);
        Assert.Equal("float", mlp.Inputs[0].ElementType);
        Assert.Equal(["y"], mlp.Outputs.Select(o => o.Name));

        // Names are kept in the order asked for.
        using var extractor = new FeatureExtractor(Tokens.Bytes, new ExtractionOptions { Layers = LayerSelection.ByNames(["y", "embed/matmul", "block0/relu"]) });
        Assert.Equal(["y", "embed/matmul", "block0/relu"], extractor.Layers);
    }

    [Fact]
    public void Builder_is_deterministic_in_its_seed()
    {
        Assert.Equal(Mlp.Bytes, OnnxModelBuilder.Mlp(5, [8, 6, 7], seed: 11).Bytes);
        Assert.NotEqual(Mlp.Bytes, OnnxModelBuilder.Mlp(5, [8, 6, 7], seed: 12).Bytes);
        var graph = OnnxGraph.Parse(Mlp.Bytes);
        Assert.Equal(8, graph.IrVersion);
        Assert.Equal(["ai.onnx:17"], graph.Opsets);
    }

    [Fact]
    public void Inspector_reports_inferred_shapes_for_every_tensor()
    {
        var inspection = OnnxInspector.Inspect(OnnxGraph.Parse(Tokens.Bytes));
        Assert.Equal(OnnxInspector.FromOnnxRuntime, inspection.ShapesFrom);
        Assert.Equal(15, inspection.Tensors.Count);
        Assert.All(inspection.Tensors, t =>
        {
            Assert.Equal("float", t.ElementType);
            Assert.Equal(["batch", "5", "6"], t.Shape);
        });
        Assert.Equal(["batch", "5", "4"], inspection.Inputs.Single(i => i.Name == "x").Shape);
        Assert.Equal(["batch", "5"], inspection.Inputs.Single(i => i.Name == "mask").Shape);

        var mlp = OnnxInspector.Inspect(OnnxGraph.Parse(Mlp.Bytes));
        Assert.Equal(["batch", "6"], mlp.Tensors.Single(t => t.Name == "layer1/relu").Shape);
    }
}
