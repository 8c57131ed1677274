using System.Text.Json;
using Prh.Alignment.IO;
using Prh.Extraction.Onnx;
using Prh.TestSupport;

namespace Prh.Extraction.Tests;

/// <summary><c>prh inspect</c> and <c>prh extract</c> run as processes on a model and inputs written here.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-extraction-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] bytes)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string WriteNpy(string name, Tensor tensor)
    {
        string path = Path.Combine(_dir, name);
        NpyFile.Write(path, tensor.Shape, tensor.Values, TensorDType.Float64);
        return path;
    }

    [Fact]
    public void Inspect_lists_inputs_outputs_and_every_tensor_with_its_shape()
    {
        string model = Write("tokens.onnx", ExtractionTests.Tokens.Bytes);
        var json = PrhProcess.Run("inspect", model, "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var doc = json.Json;
        Assert.Equal("onnxruntime", doc.GetProperty("shapes_from").GetString());
        Assert.Equal(8, doc.GetProperty("ir_version").GetInt64());
        Assert.Equal(["x", "mask"], doc.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("name").GetString()));
        var shape = doc.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().ToList();
        Assert.Equal([JsonValueKind.String, JsonValueKind.Number, JsonValueKind.Number], shape.Select(d => d.ValueKind));
        Assert.Equal(["batch", "5", "4"], shape.Select(d => d.ToString()));
        var tensors = doc.GetProperty("tensors").EnumerateArray().ToList();
        Assert.Equal(OnnxGraph.Parse(ExtractionTests.Tokens.Bytes).Tensors.Select(t => t.Name), tensors.Select(t => t.GetProperty("name").GetString()));
        var residual = tensors.Single(t => t.GetProperty("name").GetString() == "block1/residual");
        Assert.Equal("Add", residual.GetProperty("op_type").GetString());
        Assert.Equal("float", residual.GetProperty("type").GetString());
        Assert.Equal(["batch", "5", "6"], residual.GetProperty("shape").EnumerateArray().Select(d => d.ToString()));

        var text = PrhProcess.Run("inspect", model);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("block0/fc2_matmul", text.Stdout);
        Assert.Contains("MatMul", text.Stdout);
        Assert.Contains("[batch, 5, 6]", text.Stdout);
        Assert.Contains("mask", text.Stdout);
    }

    [Fact]
    public void Inspect_says_how_a_fixed_batch_axis_runs()
    {
        string symbolic = Write("fixed.onnx", OnnxModelBuilder.ConvNet(3, 5, 4, [4], seed: 21, fixedBatch: 1).Bytes);
        string baked = Write("baked.onnx", OnnxModelBuilder.ConvNet(3, 5, 4, [4], seed: 21, fixedBatch: 1, reshapeToFixedBatch: true).Bytes);
        string free = Write("free.onnx", ConvTests.Net.Bytes);

        var text = PrhProcess.Run("inspect", symbolic);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Contains("\nbatch axis fixed at 1: made symbolic, runs batched\n", text.Stdout);
        Assert.Contains("x  float  [1, 3, 5, 4]", text.Stdout); // the file's own shapes are shown
        var bakedText = PrhProcess.Run("inspect", baked);
        Assert.Contains("\nbatch axis fixed at 1: runs 1 sample at a time\n", bakedText.Stdout);
        var freeText = PrhProcess.Run("inspect", free);
        Assert.DoesNotContain("batch axis", freeText.Stdout);

        var json = PrhProcess.Run("inspect", baked, "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        var axis = json.Json.GetProperty("batch_axis");
        Assert.Equal(1, axis.GetProperty("fixed").GetInt32());
        Assert.Equal("fixed", axis.GetProperty("mode").GetString());
        var freeAxis = PrhProcess.Run("inspect", free, "--json").Json.GetProperty("batch_axis");
        Assert.Equal(JsonValueKind.Null, freeAxis.GetProperty("fixed").ValueKind);
        Assert.Equal("free", freeAxis.GetProperty("mode").GetString());
    }

    [Fact]
    public void Extract_runs_resnet18_after_its_preprocessing_with_no_batch_option()
    {
        var pixels = ResNet18Tests.Images(2, seed: 9, scale: 256);
        string images = WriteNpy("images.npy", pixels);
        string output = Path.Combine(_dir, "resnet.safetensors");
        var run = PrhProcess.Run("extract", ResNet18Tests.ModelPath, "--preprocess", ResNet18Tests.PreprocessPath, "--input", $"OriginalInput={images}",
            "--layers", "ReLU253_Output_0,Pooling395_Output_0", "--pool", "spatial_max", "--out", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("2 layers", run.Stdout);
        Assert.Contains("pool spatial_max, batch axis fixed at 1: made symbolic, runs batched, 2 samples per run", run.Stdout);

        using var extractor = new FeatureExtractor(File.ReadAllBytes(ResNet18Tests.ModelPath), new ExtractionOptions
        {
            Layers = LayerSelection.ByNames(["ReLU253_Output_0", "Pooling395_Output_0"]),
            Pooling = Pooling.SpatialMax,
            Preprocess = File.ReadAllBytes(ResNet18Tests.PreprocessPath),
        });
        var expected = extractor.Extract(new Dictionary<string, Tensor> { ["OriginalInput"] = pixels });
        var written = FeatureFile.Load(output);
        Assert.Equal([64, 512], written.Layers.Select(l => l.Width));
        for (int l = 0; l < 2; l++)
            Assert.Equal(expected.Layers[l].Data.Select(v => (double)(float)v), written.Layers[l].Data);

        var unreadable = PrhProcess.Run("extract", ResNet18Tests.ModelPath, "--preprocess", Path.Combine(_dir, "absent.onnx"), "--input", $"OriginalInput={images}",
            "--layers", "Pooling395_Output_0", "--out", output);
        Assert.Equal(1, unreadable.ExitCode);
        Assert.Contains("absent.onnx: cannot read the preprocessing model", unreadable.Stderr);
    }

    [Fact]
    public void Extract_writes_the_libraries_features_as_npy()
    {
        string model = Write("tokens.onnx", ExtractionTests.Tokens.Bytes);
        var inputs = ExtractionTests.TokenInputs();
        string x = WriteNpy("x.npy", inputs["x"]), mask = WriteNpy("mask.npy", inputs["mask"]);
        string output = Path.Combine(_dir, "features.npy");
        var run = PrhProcess.Run("extract", model, "--input", $"x={x}", "--input", $"mask={mask}", "--layers", "block1/residual,embed/add,block0/relu",
            "--pool", "last", "--mask", "mask", "--batch", "5", "--out", output);
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("3 layers", run.Stdout);

        using var extractor = new FeatureExtractor(ExtractionTests.Tokens.Bytes, new ExtractionOptions
        {
            Layers = LayerSelection.ByNames(["block1/residual", "embed/add", "block0/relu"]),
            Pooling = Pooling.Last,
            MaskInput = "mask",
            BatchSize = 5,
        });
        var expected = extractor.Extract(new Dictionary<string, Tensor> { ["x"] = NpyFile.Read(x), ["mask"] = NpyFile.Read(mask) });
        Assert.Equal([13, 3, 6], NpyFile.Read(output).Shape);
        var written = FeatureFile.Load(output);
        Assert.Equal(3, written.LayerCount);
        for (int l = 0; l < 3; l++)
            Assert.Equal(expected.Layers[l].Data.Select(v => (double)(float)v), written.Layers[l].Data); // saved as float32
    }

    [Fact]
    public void Extract_by_op_type_with_differing_widths_writes_safetensors_and_refuses_npy()
    {
        string model = Write("mlp.onnx", ExtractionTests.Mlp.Bytes);
        string x = WriteNpy("x.npy", ExtractionTests.MlpInputs()["x"]);
        string output = Path.Combine(_dir, "features.safetensors");
        var run = PrhProcess.Run("extract", model, "--input", $"x={x}", "--layer-op", "Relu", "--pool", "none", "--out", output);
        Assert.True(run.ExitCode == 0, run.Stderr);

        using var extractor = new FeatureExtractor(ExtractionTests.Mlp.Bytes, new ExtractionOptions { Layers = LayerSelection.ByOp("Relu"), Pooling = Pooling.None });
        var expected = extractor.Extract(new Dictionary<string, Tensor> { ["x"] = NpyFile.Read(x) });
        var written = FeatureFile.Load(output);
        Assert.Equal([8, 6, 7], written.Layers.Select(l => l.Width));
        for (int l = 0; l < 3; l++)
            Assert.Equal(expected.Layers[l].Data.Select(v => (double)(float)v), written.Layers[l].Data);

        var npy = PrhProcess.Run("extract", model, "--input", $"x={x}", "--layer-op", "Relu", "--out", Path.Combine(_dir, "features.npy"));
        Assert.Equal(1, npy.ExitCode);
        Assert.Contains("prh: error: FileError:", npy.Stderr);
        Assert.Contains("layers differ in width (8, 6, 7)", npy.Stderr);
        Assert.Contains(".safetensors", npy.Stderr);
    }

    [Fact]
    public void Extract_errors_name_the_fault()
    {
        string model = Write("mlp.onnx", ExtractionTests.Mlp.Bytes);
        string x = WriteNpy("x.npy", ExtractionTests.MlpInputs()["x"]);
        string output = Path.Combine(_dir, "out.npy");

        var unknown = PrhProcess.Run("extract", model, "--input", $"x={x}", "--layers", "layer0/relu,nope", "--out", output);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("prh: error: ExtractionError:", unknown.Stderr);
        Assert.Contains("'nope'", unknown.Stderr);
        Assert.Contains("prh inspect", unknown.Stderr);

        var input = PrhProcess.Run("extract", model, "--input", $"pixels={x}", "--layers", "y", "--out", output);
        Assert.Equal(1, input.ExitCode);
        Assert.Contains("no input 'pixels'", input.Stderr);

        var both = PrhProcess.Run("extract", model, "--input", $"x={x}", "--layers", "y", "--layer-op", "Relu", "--out", output);
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("either --layers", both.Stderr);

        string truncated = Write("truncated.onnx", ExtractionTests.Mlp.Bytes[..100]);
        var bad = PrhProcess.Run("extract", truncated, "--input", $"x={x}", "--layers", "y", "--out", output);
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains($"prh: error: ExtractionError: not an ONNX model: {truncated}", bad.Stderr);
        var inspect = PrhProcess.Run("inspect", x);
        Assert.Equal(1, inspect.ExitCode);
        Assert.Contains($"not an ONNX model: {x}", inspect.Stderr);

        var missing = PrhProcess.Run("extract", model, "--input", $"x={Path.Combine(_dir, "absent.npy")}", "--layers", "y", "--out", output);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("absent.npy", missing.Stderr);
        Assert.False(File.Exists(output));
    }
}
