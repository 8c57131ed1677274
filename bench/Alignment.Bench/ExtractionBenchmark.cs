using System.Diagnostics;
using System.Globalization;
using Prh.Alignment.IO;
using Prh.Extraction;
using Prh.Extraction.Onnx;

namespace Prh.Bench;

/// <summary>
/// ONNX extraction throughput on this machine: samples per second through ONNX Runtime (session
/// reused, batches of 32, every hidden layer taken) for MLPs and token models of growing size.
/// Stopwatch harness; each row is the best of three passes over the same inputs.
/// Usage: prh-bench extraction [--samples N]
/// </summary>
public static class ExtractionBenchmark
{
    public static int Run(string[] args)
    {
        int i = Array.IndexOf(args, "--samples");
        int n = i >= 0 ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : 2048;
        const int inputWidth = 256, tokens = 16;
        var random = new Random(7);
        var x = Enumerable.Range(0, n * inputWidth).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var flat = new Tensor("x", [n, inputWidth], TensorDType.Float32, x);
        var tokenInput = new Tensor("x", [n, tokens, inputWidth / tokens], TensorDType.Float32, x);
        var mask = new Tensor("mask", [n, tokens], TensorDType.Float32, Enumerable.Repeat(1.0, n * tokens).ToArray());

        Console.WriteLine($"extraction throughput, N = {n}, batch 32, ONNX Runtime {FeatureExtractor.Cpu} (session reused), {Environment.ProcessorCount} cores");
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
        return 0;

        void Measure(string name, byte[] model, long parameters, double flopsPerSample, Dictionary<string, Tensor> inputs, ExtractionOptions options)
        {
            using var extractor = new FeatureExtractor(model, options, name);
            var feeds = extractor.Inputs.ToDictionary(input => input.Name, input => inputs[input.Name]);
            extractor.Extract(feeds); // warm-up: the first run allocates and plans
            double best = double.MaxValue;
            int layers = 0;
            for (int r = 0; r < 3; r++)
            {
                var sw = Stopwatch.StartNew();
                layers = extractor.Extract(feeds).LayerCount;
                best = Math.Min(best, sw.Elapsed.TotalSeconds);
            }
            Console.WriteLine($"{name,-26} {parameters,11:N0} {layers,7} {n / best,10:N0} {flopsPerSample * n / best / 1e9,8:F1}");
        }
    }
}
