using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Prh.Extraction.Onnx;
using Prh.Extraction.Onnx.Proto;

namespace Prh.Extraction.Tests;

/// <summary>Reading and editing the ONNX protobuf with our minimal schema.</summary>
public sealed class OnnxGraphTests
{
    /// <summary>
    /// The MLP's bytes plus fields our schema does not declare, encoded by hand: ModelProto.doc_string
    /// (6), ModelProto.metadata_props (14, StringStringEntryProto {key = 1, value = 2}) and
    /// GraphProto.doc_string (10, inside the graph: serialised as a second graph field, which
    /// protobuf merges into the first).
    /// </summary>
    private static byte[] WithForeignFields(byte[] model)
    {
        using var buffer = new MemoryStream();
        buffer.Write(model);
        var output = new CodedOutputStream(buffer, leaveOpen: true);
        output.WriteTag(6, WireFormat.WireType.LengthDelimited);
        output.WriteString("a model with fields prh does not model");
        using (var entry = new MemoryStream())
        {
            var e = new CodedOutputStream(entry, leaveOpen: true);
            e.WriteTag(1, WireFormat.WireType.LengthDelimited);
            e.WriteString("license");
            e.WriteTag(2, WireFormat.WireType.LengthDelimited);
            e.WriteString("MIT");
            e.Flush();
            output.WriteTag(14, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(entry.ToArray()));
        }
        using (var graph = new MemoryStream())
        {
            var g = new CodedOutputStream(graph, leaveOpen: true);
            g.WriteTag(10, WireFormat.WireType.LengthDelimited);
            g.WriteString("graph documentation");
            g.Flush();
            output.WriteTag(7, WireFormat.WireType.LengthDelimited);
            output.WriteBytes(ByteString.CopyFrom(graph.ToArray()));
        }
        output.Flush();
        return buffer.ToArray();
    }

    /// <summary>Every top-level (field number, bytes) of a length-delimited message, decoded independently of the schema.</summary>
    private static List<(int Field, byte[] Value)> LengthDelimitedFields(byte[] message)
    {
        var fields = new List<(int, byte[])>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                fields.Add((WireFormat.GetTagFieldNumber(tag), input.ReadBytes().ToByteArray()));
            else
                input.SkipLastField();
        }
        return fields;
    }

    [Fact]
    public void Edited_model_keeps_fields_the_schema_does_not_model()
    {
        byte[] original = WithForeignFields(ExtractionTests.Mlp.Bytes);
        var graph = OnnxGraph.Parse(original);
        byte[] edited = graph.WithOutputs(["layer0/relu", "layer1/add"]);

        var top = LengthDelimitedFields(edited);
        Assert.Equal("a model with fields prh does not model", System.Text.Encoding.UTF8.GetString(top.Single(f => f.Field == 6).Value));
        var entry = LengthDelimitedFields(top.Single(f => f.Field == 14).Value);
        Assert.Equal(["license", "MIT"], entry.Select(f => System.Text.Encoding.UTF8.GetString(f.Value)));
        var graphFields = LengthDelimitedFields(top.Single(f => f.Field == 7).Value);
        Assert.Equal("graph documentation", System.Text.Encoding.UTF8.GetString(graphFields.Single(f => f.Field == 10).Value));

        // The edit took: the new outputs follow the original one.
        var reparsed = OnnxGraph.Parse(edited);
        Assert.Equal(["y", "layer0/relu", "layer1/add"], reparsed.Outputs.Select(o => o.Name));

        // ONNX Runtime reads the kept fields from the edited bytes too.
        using var session = new InferenceSession(edited);
        Assert.Equal("a model with fields prh does not model", session.ModelMetadata.Description);
        Assert.Equal("MIT", session.ModelMetadata.CustomMetadataMap["license"]);
        Assert.Contains("layer1/add", session.OutputMetadata.Keys);
    }

    [Fact]
    public void Unknown_fields_survive_a_parse_and_reserialise_round_trip()
    {
        byte[] original = WithForeignFields(ExtractionTests.Tokens.Bytes);
        var model = ModelProto.Parser.ParseFrom(original);
        Assert.Equal(ModelProto.Parser.ParseFrom(model.ToByteArray()), model);
        Assert.Contains(LengthDelimitedFields(OnnxGraph.Parse(original).ToBytes()), f => f.Field == 14);
    }

    [Fact]
    public void Asking_for_an_existing_output_does_not_duplicate_it()
    {
        var graph = OnnxGraph.Parse(ExtractionTests.Mlp.Bytes);
        var edited = OnnxGraph.Parse(graph.WithOutputs(["y", "layer0/add", "layer0/add"]));
        Assert.Equal(["y", "layer0/add"], edited.Outputs.Select(o => o.Name));
        Assert.Equal(graph.Tensors.Select(t => t.Name), edited.Tensors.Select(t => t.Name));
    }

    [Fact]
    public void Symbolic_batch_edits_axis_0_of_inputs_outputs_and_value_info_and_keeps_the_rest()
    {
        // The fixed conv net, plus an IR 3 style initializer listed as an input, [1]: a weight, not a batch.
        var model = ModelProto.Parser.ParseFrom(OnnxModelBuilder.ConvNet(3, 5, 4, [4], seed: 21, fixedBatch: 1).Bytes);
        model.Graph.Input.Add(OnnxModelBuilder.ValueInfo("scale", TensorProto.Types.DataType.Float, new TensorShapeProto.Types.Dimension { DimValue = 1 }));
        model.Graph.Initializer.Add(new TensorProto { Name = "scale", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 1 }, FloatData = { 2f } });
        var graph = OnnxGraph.Parse(WithForeignFields(model.ToByteArray()), "fixed.onnx");
        Assert.Equal(1, graph.FixedBatch());

        var symbolic = graph.WithSymbolicBatch();
        Assert.Null(symbolic.FixedBatch());
        Assert.Equal("fixed.onnx", symbolic.Source);
        Assert.Equal(["batch", "3", "5", "4"], symbolic.Inputs.Single().Shape);
        Assert.Equal(["batch", "4"], symbolic.Outputs.Single().Shape);
        var edited = symbolic.Model.Graph;
        Assert.Equal(["conv0/conv", "conv0/relu", "pool"], edited.ValueInfo.Select(v => v.Name));
        Assert.All(edited.ValueInfo, v => Assert.Equal("batch", v.Type.TensorType.Shape.Dim[0].DimParam));
        Assert.Equal(1, edited.Input.Single(i => i.Name == "scale").Type.TensorType.Shape.Dim[0].DimValue);
        Assert.Equal(graph.Model.Graph.Node, edited.Node);
        Assert.Contains(LengthDelimitedFields(symbolic.ToBytes()), f => f.Field == 14);
        // The original is untouched, and a model with a free axis comes back as it is.
        Assert.Equal("1", graph.Inputs.Single().Shape![0]);
        var free = OnnxGraph.Parse(ExtractionTests.Mlp.Bytes);
        Assert.Same(free, free.WithSymbolicBatch());
    }

    [Fact]
    public void Unknown_tensor_names_are_refused_with_a_hint()
    {
        var graph = OnnxGraph.Parse(ExtractionTests.Mlp.Bytes, "mlp.onnx");
        var e = Assert.Throws<ExtractionException>(() => graph.WithOutputs(["layer0/relu", "layer9/relu"]));
        Assert.Contains("'layer9/relu'", e.Message);
        Assert.Contains("prh inspect mlp.onnx", e.Message);
    }

    /// <summary>Runs a model's one input to its first output on ONNX Runtime: the output's values and shape.</summary>
    private static (float[] Values, long[] Shape) RunOnce(byte[] model, float[] input, long[] shape)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(input, shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, [session.InputNames[0]], [value], [session.OutputNames[0]]);
        return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[0].GetTensorTypeAndShape().Shape);
    }

    [Fact]
    public void A_scaled_input_is_the_model_run_on_the_input_times_the_factor()
    {
        var mlp = OnnxModelBuilder.Mlp(6, [5], seed: 3);
        var scaled = OnnxGraph.Parse(mlp.Bytes, "mlp.onnx").WithScaledInput(255);
        Assert.Equal(["x"], scaled.Inputs.Select(i => i.Name));
        Assert.Equal("Mul", scaled.GetTensor("x/scaled").OpType);
        var random = new Random(1);
        float[] x = [.. Enumerable.Range(0, 12).Select(_ => (float)random.NextDouble())];
        var expected = RunOnce(mlp.Bytes, [.. x.Select(v => v * 255)], [2, 6]);
        var actual = RunOnce(scaled.ToBytes(), x, [2, 6]);
        Assert.Equal(expected.Shape, actual.Shape);
        for (int k = 0; k < expected.Values.Length; k++) Assert.Equal(expected.Values[k], actual.Values[k], 1e-3f);

        var two = OnnxModelBuilder.TokenModel(4, 8, 1, 3, seed: 1);
        var e = Assert.Throws<ExtractionException>(() => OnnxGraph.Parse(two.Bytes, "tokens.onnx").WithScaledInput(2));
        Assert.Contains("tokens.onnx: scaling the input needs a model with one input; it has 2", e.Message);
    }

    [Fact]
    public void Shuffled_weights_keep_each_tensors_values_in_another_order_the_same_for_a_seed()
    {
        var mlp = OnnxModelBuilder.Mlp(16, [32, 32], seed: 4);
        var graph = OnnxGraph.Parse(mlp.Bytes, "mlp.onnx");
        var once = graph.WithShuffledWeights(7);
        Assert.Equal(once.ToBytes(), graph.WithShuffledWeights(7).ToBytes());
        Assert.NotEqual(once.ToBytes(), graph.WithShuffledWeights(8).ToBytes());
        static float[] Values(TensorProto t) => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.RawData.Span).ToArray();
        foreach (var (original, shuffled) in graph.Model.Graph.Initializer.Zip(once.Model.Graph.Initializer))
        {
            Assert.Equal(original.Name, shuffled.Name);
            Assert.Equal(original.Dims, shuffled.Dims);
            Assert.Equal(Values(original).Order(), Values(shuffled).Order());
            Assert.NotEqual(Values(original), Values(shuffled));
        }
    }

    [Fact]
    public void Image_preprocessing_normalises_each_channel_and_resizes()
    {
        float[] mean = [0.485f, 0.456f, 0.406f], std = [0.229f, 0.224f, 0.225f];
        const int h = 8, w = 6;
        var random = new Random(2);
        float[] pixels = [.. Enumerable.Range(0, 2 * 3 * h * w).Select(_ => (float)random.NextDouble())];
        var (normalised, shape) = RunOnce(OnnxModelBuilder.ImagePreprocess(mean, std), pixels, [2, 3, h, w]);
        Assert.Equal([2L, 3, h, w], shape);
        for (int k = 0; k < pixels.Length; k++)
        {
            int c = k / (h * w) % 3;
            Assert.Equal((pixels[k] - mean[c]) / std[c], normalised[k], 1e-5f);
        }

        // A flat image stays flat at any size; each channel becomes (value - 0.5) / 0.5.
        float[] flat = [.. Enumerable.Range(0, 3 * h * w).Select(k => 0.25f * (k / (h * w)))];
        var (resized, resizedShape) = RunOnce(OnnxModelBuilder.ImagePreprocess([0.5f, 0.5f, 0.5f], [0.5f, 0.5f, 0.5f], (4, 12)), flat, [1, 3, h, w]);
        Assert.Equal([1L, 3, 4, 12], resizedShape);
        for (int k = 0; k < resized.Length; k++) Assert.Equal((0.25f * (k / 48) - 0.5f) / 0.5f, resized[k], 1e-5f);
    }
}
