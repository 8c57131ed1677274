using Google.Protobuf;
using Prh.Extraction.Onnx;
using Prh.Extraction.Onnx.Proto;
using DataType = Prh.Extraction.Onnx.Proto.TensorProto.Types.DataType;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction.Tests;

/// <summary>
/// ExtractionOptions.Preprocess on the builder's models and small graphs written here: how its outputs
/// and the caller's inputs connect, and each way they fail to, named.
/// </summary>
public sealed class PreprocessTests
{
    private const int N = 9;

    private static TensorShapeProto.Types.Dimension Dim(string symbol) => new() { DimParam = symbol };
    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    private static byte[] Model(GraphProto graph) =>
        new ModelProto { IrVersion = 8, Graph = graph, OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 17 } } }.ToByteArray();

    /// <summary>sum = y + m, both float [batch, 7]: its input y is the MLP's output, m comes from the caller.</summary>
    private static byte[] SumModel()
    {
        var graph = new GraphProto { Name = "sum" };
        graph.Input.Add(OnnxModelBuilder.ValueInfo("y", DataType.Float, Dim("batch"), Dim(7)));
        graph.Input.Add(OnnxModelBuilder.ValueInfo("m", DataType.Float, Dim("batch"), Dim(7)));
        graph.Node.Add(new NodeProto { Name = "sum", OpType = "Add", Input = { "y", "m" }, Output = { "sum" } });
        graph.Output.Add(OnnxModelBuilder.ValueInfo("sum", DataType.Float, Dim("batch"), Dim(7)));
        return Model(graph);
    }

    private static ExtractionOptions Options(byte[] preprocess, params string[] layers) => new()
    {
        Layers = LayerSelection.ByNames(layers),
        Preprocess = preprocess,
        PreprocessSource = "prep.onnx",
        BatchSize = 4,
    };

    private static ExtractionException Fails(byte[] model, ExtractionOptions options, Dictionary<string, Tensor>? inputs = null) =>
        Assert.Throws<ExtractionException>(() =>
        {
            using var extractor = new FeatureExtractor(model, options, "model.onnx");
            extractor.Extract(inputs ?? ExtractionTests.MlpInputs(N));
        });

    [Fact]
    public void One_output_feeds_one_input_whatever_the_names()
    {
        // The MLP's y [batch, 7] feeds a second MLP's x [batch, 7] (7 wide in).
        var second = OnnxModelBuilder.Mlp(7, [3], seed: 31);
        using var extractor = new FeatureExtractor(second.Bytes, Options(ExtractionTests.Mlp.Bytes, "layer0/relu"), "model.onnx");
        Assert.Equal(["x"], extractor.Inputs.Select(i => i.Name));
        Assert.Equal("[batch, 5]", extractor.Inputs[0].ShapeText);
        var x = ExtractionTests.MlpInputs(N)["x"];
        var features = extractor.Extract(new Dictionary<string, Tensor> { ["x"] = x });

        var first = Reference.Mlp(ExtractionTests.Mlp, x.Values, N)["y"];
        var expected = Reference.Mlp(second, first.SelectMany(r => r.Select(v => (double)(float)v)).ToArray(), N)["layer0/relu"];
        Reference.AssertClose(Reference.Pool(expected, 1, Pooling.None, null), features.Layers[0].Data, "layer0/relu after the MLP");
    }

    [Fact]
    public void Outputs_feed_inputs_of_their_names_and_the_caller_feeds_the_rest()
    {
        using var extractor = new FeatureExtractor(SumModel(), Options(ExtractionTests.Mlp.Bytes, "sum"), "model.onnx");
        Assert.Equal(["x", "m"], extractor.Inputs.Select(i => i.Name));
        var x = ExtractionTests.MlpInputs(N)["x"];
        var m = Reference.Tensor("m", [N, 7], Reference.Floats(N * 7, seed: 8));
        var features = extractor.Extract(new Dictionary<string, Tensor> { ["x"] = x, ["m"] = m });

        var y = Reference.Mlp(ExtractionTests.Mlp, x.Values, N)["y"];
        var expected = y.Select((row, s) => row.Select((v, d) => v + m.Values[s * 7 + d]).ToArray()).ToArray();
        Reference.AssertClose(Reference.Pool(expected, 1, Pooling.None, null), features.Layers[0].Data, "sum");

        var missing = Fails(SumModel(), Options(ExtractionTests.Mlp.Bytes, "sum"), new() { ["x"] = x });
        Assert.Contains("input 'm' (float [batch, 7]) is missing", missing.Message);
        Assert.Contains("the model with its preprocessing prep.onnx needs x float [batch, 5], m float [batch, 7]", missing.Message);

        var unknown = Fails(SumModel(), Options(ExtractionTests.Mlp.Bytes, "sum"), new() { ["x"] = x, ["m"] = m, ["y"] = m });
        Assert.Contains("has no input 'y'", unknown.Message);
    }

    [Fact]
    public void Outputs_that_feed_no_input_name_both_models()
    {
        // The token model's one output y cannot reach the two-input token model by name (its inputs are x and mask).
        var e = Fails(ExtractionTests.Tokens.Bytes, Options(ExtractionTests.Tokens.Bytes, "y"), ExtractionTests.TokenInputs());
        Assert.Contains("prep.onnx feeds none of model.onnx's inputs", e.Message);
        Assert.Contains("its outputs are y float [batch, 5, 6]", e.Message);
        Assert.Contains("the model's inputs x float [batch, 5, 4], mask float [batch, 5]", e.Message);
    }

    [Fact]
    public void An_output_of_another_element_type_rank_or_size_names_both_models()
    {
        var graph = new GraphProto { Name = "ids" };
        graph.Input.Add(OnnxModelBuilder.ValueInfo("ids", DataType.Int64, Dim("batch"), Dim(7)));
        graph.Node.Add(new NodeProto
        {
            Name = "f",
            OpType = "Cast",
            Input = { "ids" },
            Output = { "f" },
            Attribute = { new AttributeProto { Name = "to", I = (long)DataType.Float, Type = AttributeProto.Types.AttributeType.Int } },
        });
        graph.Output.Add(OnnxModelBuilder.ValueInfo("f", DataType.Float, Dim("batch"), Dim(7)));
        var type = Fails(Model(graph), Options(ExtractionTests.Mlp.Bytes, "f"));
        Assert.Contains("prep.onnx's output 'y' (float [batch, 7]) cannot feed model.onnx's input 'ids' (int64 [batch, 7]): the element types differ", type.Message);

        var size = Fails(ExtractionTests.Mlp.Bytes, Options(ExtractionTests.Mlp.Bytes, "y"));
        Assert.Contains("prep.onnx's output 'y' (float [batch, 7]) cannot feed model.onnx's input 'x' (float [batch, 5]): axis 1 is 7 but the model takes 5", size.Message);

        var rank = Fails(ConvTests.Net.Bytes, Options(ConvTests.Net.Bytes, "y"), ConvTests.Inputs());
        Assert.Contains("prep.onnx's output 'y' (float [batch, 6]) cannot feed model.onnx's input 'x' (float [batch, 3, 5, 4]): the ranks differ", rank.Message);
    }

    [Fact]
    public void Preprocessing_bytes_that_are_not_a_model_and_a_mask_neither_model_takes()
    {
        var e = Fails(ExtractionTests.Mlp.Bytes, Options([1, 2, 3], "y"));
        Assert.StartsWith("not an ONNX model: prep.onnx", e.Message);

        var mask = Fails(SumModel(), Options(ExtractionTests.Mlp.Bytes, "sum") with { MaskInput = "y" });
        Assert.Contains("mask 'y' is not an input of the model or of its preprocessing prep.onnx; its inputs are x, m", mask.Message);
    }

    [Fact]
    public void Models_that_run_different_fixed_sizes_cannot_chain()
    {
        // prep: the conv net with Reshape(pool, [2, -1]), y [2, 6]; model: flat = Reshape(y, [3, -1]) on y [3, 6].
        var prep = OnnxModelBuilder.ConvNet(3, 5, 4, [6], seed: 21, fixedBatch: 2, reshapeToFixedBatch: true);
        var graph = new GraphProto { Name = "three" };
        graph.Input.Add(OnnxModelBuilder.ValueInfo("y", DataType.Float, Dim(3), Dim(6)));
        var shape = new TensorProto { Name = "shape", DataType = (int)DataType.Int64, Dims = { 2 }, Int64Data = { 3, -1 } };
        graph.Initializer.Add(shape);
        graph.Node.Add(new NodeProto { Name = "flat", OpType = "Reshape", Input = { "y", "shape" }, Output = { "flat" } });
        graph.Output.Add(OnnxModelBuilder.ValueInfo("flat", DataType.Float, Dim(3), Dim(6)));
        var e = Fails(Model(graph), Options(prep.Bytes, "flat"), ConvTests.Inputs());
        Assert.Contains("model.onnx runs only 3 samples at a time and its preprocessing prep.onnx only 2", e.Message);
    }
}
