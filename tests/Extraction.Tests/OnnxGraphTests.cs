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
}
