using Google.Protobuf;
using Prh.Alignment.IO;
using Prh.Extraction.Onnx;
using Prh.Extraction.Onnx.Proto;
using DataType = Prh.Extraction.Onnx.Proto.TensorProto.Types.DataType;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction.Tests;

/// <summary>Each bad model, selection or input fails with a message naming the fault.</summary>
public sealed class ErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-extraction-errors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ExtractionException Fails(byte[] model, ExtractionOptions options, Dictionary<string, Tensor> inputs) =>
        Assert.Throws<ExtractionException>(() =>
        {
            using var extractor = new FeatureExtractor(model, options, "model.onnx");
            extractor.Extract(inputs);
        });

    private static ExtractionOptions Layers(params string[] names) => new() { Layers = LayerSelection.ByNames(names), BatchSize = 5 };

    private static TensorShapeProto.Types.Dimension Dim(string symbol) => new() { DimParam = symbol };
    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    [Fact]
    public void Unknown_layer()
    {
        var e = Fails(ExtractionTests.Mlp.Bytes, Layers("layer0/relu", "layer7/relu"), ExtractionTests.MlpInputs());
        Assert.Contains("'layer7/relu'", e.Message);
        Assert.Contains("prh inspect model.onnx", e.Message);
    }

    [Fact]
    public void Op_type_no_node_has()
    {
        var e = Fails(ExtractionTests.Mlp.Bytes, new ExtractionOptions { Layers = LayerSelection.ByOp("relu") }, ExtractionTests.MlpInputs());
        Assert.Contains("'relu'", e.Message);
        Assert.Contains("did you mean 'Relu'", e.Message);
        Assert.Contains("MatMul, Add, Relu, Identity", e.Message);
    }

    [Fact]
    public void Wrong_input_name()
    {
        var inputs = new Dictionary<string, Tensor> { ["input"] = ExtractionTests.MlpInputs()["x"] };
        var e = Fails(ExtractionTests.Mlp.Bytes, Layers("y"), inputs);
        Assert.Contains("no input 'input'", e.Message);
        Assert.Contains("x float [batch, 5]", e.Message);
    }

    [Fact]
    public void Missing_input()
    {
        var inputs = ExtractionTests.TokenInputs();
        inputs.Remove("mask");
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("y"), inputs);
        Assert.Contains("input 'mask'", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void Wrong_dtype_for_token_ids()
    {
        var model = OnnxModelBuilder.TokenModel(11, 6, depth: 1, tokens: 5, seed: 13, tokenIds: true);
        var ids = Enumerable.Repeat(2.0, 13 * 5).ToArray();
        ids[7] = 2.5;
        var inputs = new Dictionary<string, Tensor>
        {
            ["x"] = Reference.Tensor("x", [13, 5], ids),
            ["mask"] = Reference.Tensor("mask", [13, 5], Reference.Mask(13, 5)),
        };
        var e = Fails(model.Bytes, Layers("y"), inputs);
        Assert.Contains("input 'x' takes int64", e.Message);
        Assert.Contains("2.5 at [1, 2]", e.Message);
    }

    [Fact]
    public void Input_of_an_element_type_extraction_cannot_feed()
    {
        // x float [batch, 2] -> Relu -> r; s string [batch] -> Identity -> s_out.
        var graph = new GraphProto { Name = "strings" };
        graph.Input.Add(OnnxModelBuilder.ValueInfo("x", DataType.Float, Dim("batch"), Dim(2)));
        graph.Input.Add(OnnxModelBuilder.ValueInfo("s", DataType.String, Dim("batch")));
        graph.Node.Add(new NodeProto { Name = "r", OpType = "Relu", Input = { "x" }, Output = { "r" } });
        graph.Node.Add(new NodeProto { Name = "s_out", OpType = "Identity", Input = { "s" }, Output = { "s_out" } });
        graph.Output.Add(OnnxModelBuilder.ValueInfo("s_out", DataType.String, Dim("batch")));
        var model = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 17 } } };
        var inputs = new Dictionary<string, Tensor>
        {
            ["x"] = Reference.Tensor("x", [3, 2], new double[6]),
            ["s"] = Reference.Tensor("s", [3], new double[3]),
        };
        var e = Fails(model.ToByteArray(), Layers("r"), inputs);
        Assert.Contains("input 's' takes string values", e.Message);

        var layer = Fails(model.ToByteArray(), Layers("s_out"), inputs);
        Assert.Contains("layer 's_out' holds string values", layer.Message);
    }

    [Fact]
    public void Wrong_shape_against_a_fixed_axis()
    {
        var inputs = new Dictionary<string, Tensor> { ["x"] = Reference.Tensor("x", [13, 3], Reference.Floats(39, 1)) };
        var e = Fails(ExtractionTests.Mlp.Bytes, Layers("y"), inputs);
        Assert.Contains("input 'x' has shape [13, 3]", e.Message);
        Assert.Contains("axis 1 must be 5", e.Message);

        var rank = Fails(ExtractionTests.Mlp.Bytes, Layers("y"), new() { ["x"] = Reference.Tensor("x", [13, 5, 1], Reference.Floats(65, 1)) });
        Assert.Contains("input 'x' has shape [13, 5, 1] (rank 3)", rank.Message);
    }

    [Fact]
    public void Wrong_shape_only_onnx_runtime_sees()
    {
        // The input's width made symbolic: the MatMul refuses 4 columns when it runs.
        var model = ModelProto.Parser.ParseFrom(ExtractionTests.Mlp.Bytes);
        model.Graph.Input[0].Type.TensorType.Shape.Dim[1] = new TensorShapeProto.Types.Dimension { DimParam = "width" };
        var inputs = new Dictionary<string, Tensor> { ["x"] = Reference.Tensor("x", [13, 4], Reference.Floats(52, 1)) };
        var e = Fails(model.ToByteArray(), Layers("y"), inputs);
        Assert.Contains("ONNX Runtime refused samples 0-4, inputs x float [5, 4] (model: [batch, width])", e.Message);
        Assert.Contains("model.onnx", e.Message);
    }

    [Fact]
    public void Inputs_of_different_sample_counts()
    {
        var inputs = ExtractionTests.TokenInputs();
        inputs["mask"] = Reference.Tensor("mask", [12, 5], Reference.Mask(12, 5));
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("y"), inputs);
        Assert.Contains("'mask' has N = 12", e.Message);
        Assert.Contains("'x' has N = 13", e.Message);
    }

    [Fact]
    public void Mask_that_is_not_an_input()
    {
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("y") with { MaskInput = "attention_mask" }, ExtractionTests.TokenInputs());
        Assert.Contains("mask 'attention_mask' is not an input", e.Message);
        Assert.Contains("x, mask", e.Message);
    }

    [Fact]
    public void Mask_without_a_valid_token()
    {
        var inputs = ExtractionTests.TokenInputs();
        var mask = (double[])inputs["mask"].Values.Clone();
        Array.Clear(mask, 4 * 5, 5);
        inputs["mask"] = inputs["mask"] with { Values = mask };
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("y") with { MaskInput = "mask" }, inputs);
        Assert.Contains("no token of sample 4", e.Message);
    }

    [Fact]
    public void Per_token_layer_without_pooling()
    {
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("block0/relu") with { Pooling = Pooling.None }, ExtractionTests.TokenInputs());
        Assert.Contains("layer 'block0/relu' has shape [batch, 5, 6]", e.Message);
        Assert.Contains("choose a pooling", e.Message);
    }

    [Theory]
    [InlineData(Pooling.None)]
    [InlineData(Pooling.First)]
    [InlineData(Pooling.Last)]
    public void Conv_layer_with_a_token_pooling(Pooling pooling)
    {
        var e = Fails(ConvTests.Net.Bytes, Layers("conv0/conv", "conv1/relu") with { Pooling = pooling }, ConvTests.Inputs());
        Assert.Contains($"model.onnx: layer 'conv0/conv' has shape [batch, 4, 5, 4] (convolutional: [batch, channels, height, width]), which " +
            $"{PoolingNames.Name(pooling)} pooling does not apply to", e.Message);
        Assert.Contains("convolutional layers take mean (the same as spatial_mean) or spatial_max", e.Message);
    }

    [Theory]
    [InlineData(Pooling.SpatialMean)]
    [InlineData(Pooling.SpatialMax)]
    public void Token_layer_with_a_spatial_pooling(Pooling pooling)
    {
        var e = Fails(ExtractionTests.Tokens.Bytes, Layers("block0/relu") with { Pooling = pooling }, ExtractionTests.TokenInputs());
        Assert.Contains($"model.onnx: layer 'block0/relu' has shape [batch, 5, 6] (per token), which {PoolingNames.Name(pooling)} pooling does not apply to", e.Message);
        Assert.Contains("[batch, tokens, D] layers take mean, first or last", e.Message);

        // 2-D layers are taken as they are under every pooling.
        using var extractor = new FeatureExtractor(ExtractionTests.Mlp.Bytes, Layers("layer1/relu") with { Pooling = pooling });
        var expected = Reference.Mlp(ExtractionTests.Mlp, ExtractionTests.MlpInputs()["x"].Values, 13)["layer1/relu"];
        Reference.AssertClose(Reference.Pool(expected, 1, Pooling.None, null), extractor.Extract(ExtractionTests.MlpInputs()).Layers[0].Data, "layer1/relu");
    }

    [Fact]
    public void Inputs_that_fix_the_sample_axis_at_different_sizes()
    {
        var graph = new GraphProto { Name = "two" };
        graph.Input.Add(OnnxModelBuilder.ValueInfo("a", DataType.Float, Dim(1), Dim(2)));
        graph.Input.Add(OnnxModelBuilder.ValueInfo("b", DataType.Float, Dim(4), Dim(2)));
        graph.Node.Add(new NodeProto { Name = "sum", OpType = "Add", Input = { "a", "b" }, Output = { "sum" } });
        graph.Output.Add(OnnxModelBuilder.ValueInfo("sum", DataType.Float, Dim(4), Dim(2)));
        var model = new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 17 } } };
        var e = Fails(model.ToByteArray(), Layers("sum"), new());
        Assert.Contains("model.onnx: inputs fix the sample axis at different sizes: 'a' [1, 2] and 'b' [4, 2]", e.Message);
    }

    [Fact]
    public void Bad_batch_size_and_pooling_names()
    {
        var e = Fails(ExtractionTests.Mlp.Bytes, Layers("y") with { BatchSize = 0 }, ExtractionTests.MlpInputs());
        Assert.Contains("batch size", e.Message);
        Assert.Contains("'median'; expected none, mean, first, last, spatial_mean or spatial_max",
            Assert.Throws<ExtractionException>(() => PoolingNames.Parse("median")).Message);
        Assert.Equal(Pooling.SpatialMax, PoolingNames.Parse(" Spatial_Max "));
        Assert.All(Enum.GetValues<Pooling>(), p => Assert.Equal(p, PoolingNames.Parse(PoolingNames.Name(p))));
        Assert.Contains("'y' is listed more than once", Assert.Throws<ExtractionException>(() => LayerSelection.ByNames(["y", "y"])).Message);
    }

    [Fact]
    public void Truncated_model_bytes_and_file()
    {
        byte[] bytes = ExtractionTests.Tokens.Bytes;
        var e = Assert.Throws<ExtractionException>(() => OnnxGraph.Parse(bytes[..(bytes.Length / 2)], "half.onnx"));
        Assert.StartsWith("not an ONNX model: half.onnx", e.Message);
        Assert.Contains("truncated", e.Message);

        string path = Path.Combine(_dir, "truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length - 7)]);
        var file = Assert.Throws<ExtractionException>(() => OnnxGraph.Load(path));
        Assert.StartsWith($"not an ONNX model: {path}", file.Message);
        Assert.Throws<ExtractionException>(() => FeatureExtractor.FromFile(path, Layers("y")));
    }

    [Fact]
    public void Files_that_are_not_onnx_models()
    {
        string npy = Path.Combine(_dir, "features.npy");
        NpyFile.Write(npy, [4, 3], new double[12]);
        Assert.StartsWith($"not an ONNX model: {npy}", Assert.Throws<ExtractionException>(() => OnnxGraph.Load(npy)).Message);

        string text = Path.Combine(_dir, "notes.onnx");
        File.WriteAllText(text, "name: my model\nlayers: 12\n");
        Assert.StartsWith($"not an ONNX model: {text}", Assert.Throws<ExtractionException>(() => OnnxGraph.Load(text)).Message);

        string empty = Path.Combine(_dir, "empty.onnx");
        File.WriteAllBytes(empty, []);
        Assert.Contains("has no graph", Assert.Throws<ExtractionException>(() => OnnxGraph.Load(empty)).Message);

        string missing = Path.Combine(_dir, "missing.onnx");
        Assert.Contains(missing, Assert.Throws<ExtractionException>(() => OnnxGraph.Load(missing)).Message);
    }
}
