using Prh.Alignment.IO;
using Prh.Extraction.Onnx;

namespace Prh.Extraction.Tests;

/// <summary>
/// The builder's networks computed directly, in plain loops over its weights (double arithmetic on
/// the float32 weights and inputs): every named tensor's per-sample activation, [T x D] row-major
/// for per-token tensors.
/// </summary>
internal static class Reference
{
    public static Dictionary<string, double[][]> Mlp(BuiltMlp model, double[] x, int n)
    {
        var result = new Dictionary<string, double[][]>();
        void Put(string name, int sample, double[] value)
        {
            if (!result.TryGetValue(name, out var rows)) result[name] = rows = new double[n][];
            rows[sample] = value;
        }
        for (int s = 0; s < n; s++)
        {
            double[] h = x.AsSpan(s * model.InputWidth, model.InputWidth).ToArray();
            for (int l = 0; l < model.Layers.Count; l++)
            {
                var d = model.Layers[l];
                double[] product = MatMul(h, 1, d);
                double[] added = AddBias(product, 1, d);
                double[] relu = added.Select(v => Math.Max(0, v)).ToArray();
                Put($"layer{l}/matmul", s, product);
                Put($"layer{l}/add", s, added);
                Put($"layer{l}/relu", s, relu);
                h = relu;
            }
            Put("y", s, h);
        }
        return result;
    }

    /// <summary><paramref name="x"/>: [n, T, InputWidth] floats, or [n, T] ids for a token-id model.</summary>
    public static Dictionary<string, double[][]> Token(BuiltTokenModel model, double[] x, int n)
    {
        var result = new Dictionary<string, double[][]>();
        void Put(string name, int sample, double[] value)
        {
            if (!result.TryGetValue(name, out var rows)) result[name] = rows = new double[n][];
            rows[sample] = value;
        }
        int t = model.Tokens, w = model.Width;
        for (int s = 0; s < n; s++)
        {
            double[] embedded;
            if (model.TokenIds)
            {
                embedded = new double[t * w];
                for (int k = 0; k < t; k++)
                {
                    int id = (int)x[s * t + k];
                    for (int j = 0; j < w; j++) embedded[k * w + j] = model.Embed.W[id * w + j];
                }
                Put("embed/gather", s, embedded);
            }
            else
            {
                embedded = MatMul(x.AsSpan(s * t * model.InputWidth, t * model.InputWidth).ToArray(), t, model.Embed);
                Put("embed/matmul", s, embedded);
            }
            double[] h = AddBias(embedded, t, model.Embed);
            Put("embed/add", s, h);
            for (int b = 0; b < model.Blocks.Count; b++)
            {
                var block = model.Blocks[b];
                double[] fc1 = MatMul(h, t, block.Fc1);
                double[] fc1Add = AddBias(fc1, t, block.Fc1);
                double[] relu = fc1Add.Select(v => Math.Max(0, v)).ToArray();
                double[] fc2 = MatMul(relu, t, block.Fc2);
                double[] fc2Add = AddBias(fc2, t, block.Fc2);
                double[] residual = h.Zip(fc2Add, (a, c) => a + c).ToArray();
                Put($"block{b}/fc1_matmul", s, fc1);
                Put($"block{b}/fc1_add", s, fc1Add);
                Put($"block{b}/relu", s, relu);
                Put($"block{b}/fc2_matmul", s, fc2);
                Put($"block{b}/fc2_add", s, fc2Add);
                Put($"block{b}/residual", s, residual);
                h = residual;
            }
            Put("y", s, h);
        }
        return result;
    }

    /// <summary>
    /// <paramref name="x"/>: [n, Channels, Height, Width]; per sample, each conv{i}/conv and conv{i}/relu as
    /// [C x H x W] row-major, and pool (each channel's mean of the last relu) as [C].
    /// </summary>
    public static Dictionary<string, double[][]> Conv(BuiltConvNet model, double[] x, int n)
    {
        var result = new Dictionary<string, double[][]>();
        void Put(string name, int sample, double[] value)
        {
            if (!result.TryGetValue(name, out var rows)) result[name] = rows = new double[n][];
            rows[sample] = value;
        }
        int height = model.Height, width = model.Width, plane = height * width;
        for (int s = 0; s < n; s++)
        {
            double[] h = x.AsSpan(s * model.Channels * plane, model.Channels * plane).ToArray();
            for (int l = 0; l < model.Layers.Count; l++)
            {
                var c = model.Layers[l];
                var conv = new double[c.Out * plane];
                for (int o = 0; o < c.Out; o++)
                    for (int y = 0; y < height; y++)
                        for (int xx = 0; xx < width; xx++)
                        {
                            double sum = c.B[o];
                            for (int i = 0; i < c.In; i++)
                                for (int ky = 0; ky < 3; ky++)
                                    for (int kx = 0; kx < 3; kx++)
                                    {
                                        int yy = y + ky - 1, xi = xx + kx - 1;
                                        if (yy < 0 || yy >= height || xi < 0 || xi >= width) continue; // zero padding
                                        sum += c.W[((o * c.In + i) * 3 + ky) * 3 + kx] * h[i * plane + yy * width + xi];
                                    }
                            conv[o * plane + y * width + xx] = sum;
                        }
                Put($"conv{l}/conv", s, conv);
                h = conv.Select(v => Math.Max(0, v)).ToArray();
                Put($"conv{l}/relu", s, h);
            }
            Put("pool", s, SpatialPool([h], plane, Pooling.SpatialMean));
        }
        return result;
    }

    /// <summary>Pools per-sample [C x positions] activations over the positions, into N x C: the channel's mean, or its max for SpatialMax.</summary>
    public static double[] SpatialPool(double[][] activations, int positions, Pooling pooling)
    {
        int n = activations.Length, channels = activations[0].Length / positions;
        var result = new double[n * channels];
        for (int s = 0; s < n; s++)
            for (int c = 0; c < channels; c++)
            {
                var plane = activations[s].Skip(c * positions).Take(positions);
                result[s * channels + c] = pooling == Pooling.SpatialMax ? plane.Max() : plane.Average();
            }
        return result;
    }

    /// <summary>Pools per-sample [T x D] activations as the extractor documents, into N x D.</summary>
    public static double[] Pool(double[][] activations, int tokens, Pooling pooling, double[]? mask)
    {
        int n = activations.Length, width = activations[0].Length / tokens;
        var result = new double[n * width];
        for (int s = 0; s < n; s++)
        {
            var a = activations[s];
            bool Valid(int k) => mask is null || mask[s * tokens + k] != 0;
            var row = result.AsSpan(s * width, width);
            if (tokens == 1 || pooling == Pooling.First)
            {
                a.AsSpan(0, width).CopyTo(row);
            }
            else if (pooling == Pooling.Last)
            {
                int k = tokens - 1;
                while (!Valid(k)) k--;
                a.AsSpan(k * width, width).CopyTo(row);
            }
            else
            {
                int used = 0;
                for (int k = 0; k < tokens; k++)
                {
                    if (!Valid(k)) continue;
                    used++;
                    for (int d = 0; d < width; d++) row[d] += a[k * width + d];
                }
                for (int d = 0; d < width; d++) row[d] /= used;
            }
        }
        return result;
    }

    private static double[] MatMul(double[] input, int rows, DenseWeights d)
    {
        var output = new double[rows * d.Out];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d.Out; j++)
            {
                double sum = 0;
                for (int i = 0; i < d.In; i++) sum += input[r * d.In + i] * d.W[i * d.Out + j];
                output[r * d.Out + j] = sum;
            }
        return output;
    }

    private static double[] AddBias(double[] input, int rows, DenseWeights d)
    {
        var output = (double[])input.Clone();
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < d.Out; j++) output[r * d.Out + j] += d.B[j];
        return output;
    }

    /// <summary>Values exactly representable in float32, uniform in [-1, 1).</summary>
    public static double[] Floats(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (double)(float)(random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>An [n, tokens] mask: sample s has 1 + (3 s mod tokens) valid tokens, then padding.</summary>
    public static double[] Mask(int n, int tokens)
    {
        var mask = new double[n * tokens];
        for (int s = 0; s < n; s++)
            for (int k = 0; k < 1 + 3 * s % tokens; k++) mask[s * tokens + k] = 1;
        return mask;
    }

    public static Tensor Tensor(string name, int[] shape, double[] values) => new(name, shape, TensorDType.Float64, values);

    /// <summary>|actual - expected| within 1e-5 of max(|expected|, 1) (float32 against double).</summary>
    public static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++)
        {
            double tolerance = 1e-5 * Math.Max(Math.Abs(expected[k]), 1.0);
            Assert.True(Math.Abs(expected[k] - actual[k]) <= tolerance,
                $"{what}: value {k} is {actual[k]:R}, expected {expected[k]:R} (difference {Math.Abs(expected[k] - actual[k]):E2})");
        }
    }
}
