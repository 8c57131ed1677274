using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prh.Alignment.Features;
using Prh.Extraction.Onnx;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction;

/// <summary>What to extract: the layers, how to pool them, the mask input, the batch size.</summary>
public sealed record ExtractionOptions
{
    public required LayerSelection Layers { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Mean;

    /// <summary>The model input holding the [N, T] token mask (non-zero = valid) that Mean and Last pooling respect.</summary>
    public string? MaskInput { get; init; }

    public int BatchSize { get; init; } = 32;

    /// <summary>Use CUDA when ONNX Runtime offers it (the GPU package on a machine with a GPU); CPU otherwise.</summary>
    public bool AllowCuda { get; init; } = true;
}

/// <summary>A model input as ONNX Runtime reports it: element type and shape (-1 for a free axis).</summary>
public sealed record ModelInput(string Name, TensorElementType ElementType, long[] Dimensions, string[] SymbolicDimensions)
{
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) =>
        d >= 0 ? d.ToString(CultureInfo.InvariantCulture)
        : i < SymbolicDimensions.Length && SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?")) + "]";
}

/// <summary>
/// Runs an ONNX model with ONNX Runtime and turns chosen intermediate tensors into per-sample
/// features. The model is edited once so the chosen tensors are graph outputs and one session is
/// created for it (expensive), then <see cref="Extract"/> may be called any number of times. Inputs
/// are fed in batches of <see cref="ExtractionOptions.BatchSize"/> samples (the last batch smaller);
/// each layer's activation is pooled per sample (<see cref="Pooling"/>) into an N x D layer.
/// </summary>
public sealed class FeatureExtractor : IDisposable
{
    public const string Cuda = "CUDAExecutionProvider";
    public const string Cpu = "CPUExecutionProvider";

    private readonly InferenceSession _session;
    private readonly ExtractionOptions _options;
    private readonly Dictionary<string, ModelInput> _inputs;
    private readonly RunOptions _runOptions = new();

    public FeatureExtractor(byte[] model, ExtractionOptions options, string source = "model")
        : this(OnnxGraph.Parse(model, source), options)
    {
    }

    public FeatureExtractor(OnnxGraph graph, ExtractionOptions options)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize <= 0)
            throw new ExtractionException($"batch size must be at least 1, not {options.BatchSize}");
        Graph = graph;
        _options = options;
        Layers = options.Layers.Resolve(graph);
        if (options.MaskInput is { } mask && graph.Inputs.All(i => i.Name != mask))
            throw new ExtractionException(
                $"{Source}: mask '{mask}' is not an input of the model; its inputs are {string.Join(", ", graph.Inputs.Select(i => i.Name))}");

        byte[] edited = graph.WithOutputs(Layers);
        (_session, ExecutionProvider) = CreateSession(edited, options.AllowCuda, Source);
        try
        {
            _inputs = _session.InputMetadata.ToDictionary(kv => kv.Key, kv => new ModelInput(
                kv.Key, kv.Value.IsTensor ? kv.Value.ElementDataType : TensorElementType.DataTypeMax,
                kv.Value.IsTensor ? kv.Value.Dimensions.Select(d => (long)d).ToArray() : [],
                kv.Value.IsTensor ? kv.Value.SymbolicDimensions : []), StringComparer.Ordinal);
            CheckLayerShapes();
        }
        catch
        {
            _session.Dispose();
            _runOptions.Dispose();
            throw;
        }
    }

    public static FeatureExtractor FromFile(string path, ExtractionOptions options) => new(OnnxGraph.Load(path), options);

    public OnnxGraph Graph { get; }
    public string Source => Graph.Source;

    /// <summary>The tensors extracted, one feature layer each, in this order.</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>Each layer's width (its last axis) where ONNX Runtime's shape inference fixes it before a run, else null.</summary>
    public IReadOnlyList<int?> KnownWidths => Layers.Select(l =>
        _session.OutputMetadata.TryGetValue(l, out var meta) && meta.IsTensor && meta.Dimensions is [.., var last] && last > 0
            ? (int?)last : null).ToList();

    /// <summary>The execution provider the session runs on: <see cref="Cuda"/> or <see cref="Cpu"/>.</summary>
    public string ExecutionProvider { get; }

    /// <summary>The model's inputs (initializers excluded), in the model's order.</summary>
    public IReadOnlyList<ModelInput> Inputs => _session.InputNames.Select(n => _inputs[n]).ToList();

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (model input name to tensor; axis 0 is the sample
    /// axis, every input has the same N) and returns one N x D layer per requested tensor.
    /// </summary>
    public ModelFeatures Extract(IReadOnlyDictionary<string, Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var feeds = CheckInputs(inputs);
        int n = feeds[0].Tensor.Shape[0];
        double[]? mask = null;
        int maskTokens = 0;
        if (_options.MaskInput is { } maskName)
        {
            var m = inputs[maskName];
            if (m.Rank != 2)
                throw new ExtractionException(
                    $"mask '{maskName}' has shape {FormatShape(m.Shape)}; a token mask must be [N, T] (1 for a valid token, 0 for padding)");
            mask = m.Values;
            maskTokens = m.Shape[1];
        }

        var results = new double[Layers.Count][];
        var widths = new int[Layers.Count];
        int batch = Math.Min(_options.BatchSize, n);
        var buffers = feeds.Select(f => Feed.Allocate(f, batch)).ToArray();
        var outputNames = Layers.ToArray();
        for (int start = 0; start < n; start += batch)
        {
            int count = Math.Min(batch, n - start);
            var values = new List<OrtValue>(feeds.Count);
            try
            {
                for (int k = 0; k < feeds.Count; k++) values.Add(buffers[k].Fill(start, count));
                using var outputs = Run(feeds, values, count);
                for (int l = 0; l < outputNames.Length; l++)
                    Pool(l, outputs[l], start, count, n, mask, maskTokens, results, widths);
            }
            finally
            {
                foreach (var v in values) v.Dispose();
            }
        }
        var layers = new List<LayerFeatures>(Layers.Count);
        for (int l = 0; l < Layers.Count; l++) layers.Add(new LayerFeatures(n, widths[l], results[l]));
        return new ModelFeatures(Source, layers);
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }

    private static (InferenceSession, string) CreateSession(byte[] model, bool allowCuda, string source)
    {
        if (allowCuda && OrtEnv.Instance().GetAvailableProviders().Contains(Cuda))
        {
            // The provider can be listed yet fail to start (no device, missing CUDA libraries): fall back to the CPU.
            SessionOptions? cudaOptions = null;
            try
            {
                cudaOptions = SessionOptions.MakeSessionOptionWithCudaProvider(0);
                return (new InferenceSession(model, cudaOptions), Cuda);
            }
            catch (OnnxRuntimeException)
            {
            }
            finally
            {
                cudaOptions?.Dispose();
            }
        }
        using var options = new SessionOptions();
        try
        {
            return (new InferenceSession(model, options), Cpu);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ExtractionException($"{source}: ONNX Runtime cannot load the model: {e.Message}", e);
        }
    }

    /// <summary>Refuses, before any run, layers whose known rank the pooling cannot handle.</summary>
    private void CheckLayerShapes()
    {
        foreach (string layer in Layers)
        {
            if (!_session.OutputMetadata.TryGetValue(layer, out var meta) || !meta.IsTensor) continue;
            if (!IsFloatType(meta.ElementDataType))
                throw new ExtractionException(
                    $"{Source}: layer '{layer}' holds {TypeName(meta.ElementDataType)} values; features must be floating point (float, double, float16, bfloat16)");
            int rank = meta.Dimensions.Length;
            if (rank == 0) continue; // rank unknown until it runs
            CheckRank(layer, rank, "[" + string.Join(", ", meta.Dimensions.Select((d, i) =>
                d >= 0 ? d.ToString(CultureInfo.InvariantCulture) : meta.SymbolicDimensions[i] is { Length: > 0 } s ? s : "?")) + "]");
        }
    }

    private void CheckRank(string layer, int rank, string shape)
    {
        if (rank == 3 && _options.Pooling == Pooling.None)
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has shape {shape} (per token); choose a pooling (mean, first or last) to make one vector per sample");
        if (rank is not (2 or 3))
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has shape {shape}; features need [batch, D] or [batch, tokens, D] activations");
    }

    private sealed record FeedSpec(string Name, Tensor Tensor, ModelInput Input, int SampleSize);

    /// <summary>Checks names, sample counts, ranks, fixed dimensions and element types against the model.</summary>
    private List<FeedSpec> CheckInputs(IReadOnlyDictionary<string, Tensor> inputs)
    {
        string modelInputs = string.Join(", ", _session.InputNames.Select(n => $"{n} {TypeName(_inputs[n].ElementType)} {_inputs[n].ShapeText}"));
        foreach (string name in inputs.Keys)
            if (!_inputs.ContainsKey(name))
                throw new ExtractionException($"{Source}: the model has no input '{name}'; its inputs are {modelInputs}");
        foreach (string name in _session.InputNames)
            if (!inputs.ContainsKey(name))
                throw new ExtractionException($"{Source}: input '{name}' ({TypeName(_inputs[name].ElementType)} {_inputs[name].ShapeText}) is missing; the model needs " +
                    $"{modelInputs}");

        var feeds = new List<FeedSpec>();
        FeedSpec? first = null;
        foreach (string name in _session.InputNames)
        {
            var tensor = inputs[name];
            var input = _inputs[name];
            if (input.ElementType is not (TensorElementType.Float or TensorElementType.Double or TensorElementType.Int64
                or TensorElementType.Int32 or TensorElementType.Bool))
                throw new ExtractionException(
                    $"{Source}: input '{name}' takes {TypeName(input.ElementType)} values, which extraction cannot feed (float, double, int64, int32 or bool inputs only)");
            if (tensor.Rank == 0 || tensor.Shape[0] == 0)
                throw new ExtractionException($"input '{name}' has shape {FormatShape(tensor.Shape)}; axis 0 must count the samples (N >= 1)");
            if (input.Dimensions.Length > 0 && input.Dimensions.Length != tensor.Rank)
                throw new ExtractionException(
                    $"input '{name}' has shape {FormatShape(tensor.Shape)} (rank {tensor.Rank}) but the model takes {input.ShapeText} (rank {input.Dimensions.Length})");
            for (int axis = 1; axis < input.Dimensions.Length; axis++)
                if (input.Dimensions[axis] >= 0 && input.Dimensions[axis] != tensor.Shape[axis])
                    throw new ExtractionException(
                        $"input '{name}' has shape {FormatShape(tensor.Shape)} but the model takes {input.ShapeText}: axis {axis} must be {input.Dimensions[axis]}, not " +
                            $"{tensor.Shape[axis]}");
            if (input.Dimensions.Length > 0 && input.Dimensions[0] > 0)
            {
                long fixedBatch = input.Dimensions[0];
                if (_options.BatchSize != fixedBatch || tensor.Shape[0] % fixedBatch != 0)
                    throw new ExtractionException(
                        $"input '{name}' has a fixed batch axis of {fixedBatch} ({input.ShapeText}); run with a batch size of {fixedBatch} and a sample count divisible " +
                            $"by it (N = {tensor.Shape[0]}, batch {_options.BatchSize})");
            }
            int sampleSize = 1;
            for (int axis = 1; axis < tensor.Rank; axis++) sampleSize = checked(sampleSize * tensor.Shape[axis]);
            var feed = new FeedSpec(name, tensor, input, sampleSize);
            if (first is not null && tensor.Shape[0] != first.Tensor.Shape[0])
                throw new ExtractionException(
                    $"inputs differ in sample count: '{name}' has N = {tensor.Shape[0]} (shape {FormatShape(tensor.Shape)}) but '{first.Name}' has N = " +
                        $"{first.Tensor.Shape[0]} (shape {FormatShape(first.Tensor.Shape)})");
            first ??= feed;
            CheckValues(feed);
            feeds.Add(feed);
        }
        if (feeds.Count == 0) throw new ExtractionException($"{Source}: the model has no inputs");
        return feeds;
    }

    /// <summary>Integer and boolean inputs must hold whole numbers in range (token ids, 0/1 masks).</summary>
    private static void CheckValues(FeedSpec feed)
    {
        var type = feed.Input.ElementType;
        if (type is TensorElementType.Float or TensorElementType.Double) return;
        var values = feed.Tensor.Values;
        for (int k = 0; k < values.Length; k++)
        {
            double v = values[k];
            bool ok = type switch
            {
                TensorElementType.Int64 => v == Math.Floor(v) && v >= -9.2233720368547758e18 && v < 9.2233720368547758e18,
                TensorElementType.Int32 => v == Math.Floor(v) && v >= int.MinValue && v <= int.MaxValue,
                _ => v is 0 or 1,
            };
            if (!ok)
                throw new ExtractionException(
                    $"input '{feed.Name}' takes {TypeName(type)} values (token ids, masks) but holds {v.ToString("R", CultureInfo.InvariantCulture)} at " +
                        $"{Position(feed.Tensor.Shape, k)}; " +
                    (type == TensorElementType.Bool ? "only 0 and 1 convert to bool" : "only whole numbers in range convert"));
        }
    }

    /// <summary>A reusable per-input batch buffer of the model's element type.</summary>
    private abstract class Feed(FeedSpec spec)
    {
        public FeedSpec Spec { get; } = spec;

        public static Feed Allocate(FeedSpec spec, int batch)
        {
            int length = checked(batch * spec.SampleSize);
            return spec.Input.ElementType switch
            {
                TensorElementType.Float => new Typed<float>(spec, length, v => (float)v),
                TensorElementType.Double => new Typed<double>(spec, length, v => v),
                TensorElementType.Int64 => new Typed<long>(spec, length, v => (long)v),
                TensorElementType.Int32 => new Typed<int>(spec, length, v => (int)v),
                _ => new Typed<bool>(spec, length, v => v != 0),
            };
        }

        /// <summary>An OrtValue over samples [start, start + count), which the caller disposes.</summary>
        public abstract OrtValue Fill(int start, int count);

        protected long[] Shape(int count)
        {
            var shape = Spec.Tensor.Shape.Select(d => (long)d).ToArray();
            shape[0] = count;
            return shape;
        }

        private sealed class Typed<T>(FeedSpec spec, int length, Func<double, T> convert) : Feed(spec) where T : unmanaged
        {
            private readonly T[] _buffer = new T[length];

            public override OrtValue Fill(int start, int count)
            {
                int size = Spec.SampleSize;
                var source = Spec.Tensor.Values.AsSpan(start * size, count * size);
                for (int k = 0; k < source.Length; k++) _buffer[k] = convert(source[k]);
                return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _buffer.AsMemory(0, count * size), Shape(count));
            }
        }
    }

    private IDisposableReadOnlyCollection<OrtValue> Run(List<FeedSpec> feeds, List<OrtValue> values, int count)
    {
        try
        {
            return _session.Run(_runOptions, feeds.Select(f => f.Name).ToArray(), values, Layers.ToArray());
        }
        catch (OnnxRuntimeException e)
        {
            string given = string.Join(", ", feeds.Select(f =>
            {
                var shape = (int[])f.Tensor.Shape.Clone();
                shape[0] = count;
                return $"{f.Name} {TypeName(f.Input.ElementType)} {FormatShape(shape)} (model: {f.Input.ShapeText})";
            }));
            throw new ExtractionException($"{Source}: ONNX Runtime refused the inputs {given}: {e.Message}", e);
        }
    }

    private void Pool(int l, OrtValue output, int start, int count, int n, double[]? mask, int maskTokens, double[][] results, int[] widths)
    {
        string layer = Layers[l];
        if (!output.IsTensor)
            throw new ExtractionException($"{Source}: layer '{layer}' is not a tensor");
        var info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        string shown = "[" + string.Join(", ", shape) + "]";
        CheckRank(layer, shape.Length, shown);
        if (shape[0] != count)
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has shape {shown} for a batch of {count} samples; its axis 0 is not the sample axis, so it cannot be a per-sample feature");
        int width = checked((int)shape[^1]);
        int tokens = shape.Length == 3 ? checked((int)shape[1]) : 1;
        if (width == 0 || tokens == 0)
            throw new ExtractionException($"{Source}: layer '{layer}' has an empty shape {shown}");
        if (results[l] is null)
        {
            widths[l] = width;
            results[l] = new double[checked(n * width)];
        }
        else if (widths[l] != width)
        {
            throw new ExtractionException($"{Source}: layer '{layer}' is {widths[l]} wide in one batch and {width} in another ({shown})");
        }
        if (shape.Length == 3 && mask is not null && maskTokens != tokens)
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has {tokens} tokens ({shown}) but mask '{_options.MaskInput}' has {maskTokens}; pooling needs one mask value per token");

        var values = ToDouble(output, info.ElementDataType, layer);
        var target = results[l];
        for (int s = 0; s < count; s++)
        {
            int sample = start + s;
            var row = target.AsSpan(sample * width, width);
            var activation = values.AsSpan(s * tokens * width, tokens * width);
            if (shape.Length == 2)
            {
                activation.CopyTo(row);
                continue;
            }
            bool masked = mask is not null;
            var sampleMask = masked ? mask.AsSpan(sample * maskTokens, maskTokens) : default;
            switch (_options.Pooling)
            {
                case Pooling.First:
                    activation[..width].CopyTo(row);
                    break;
                case Pooling.Last:
                {
                    int t = tokens - 1;
                    if (masked)
                    {
                        while (t >= 0 && sampleMask[t] == 0) t--;
                        if (t < 0) throw NoValidToken(sample);
                    }
                    activation.Slice(t * width, width).CopyTo(row);
                    break;
                }
                default: // Mean
                {
                    row.Clear();
                    int used = 0;
                    for (int t = 0; t < tokens; t++)
                    {
                        if (masked && sampleMask[t] == 0) continue;
                        var token = activation.Slice(t * width, width);
                        for (int d = 0; d < width; d++) row[d] += token[d];
                        used++;
                    }
                    if (used == 0) throw NoValidToken(sample);
                    for (int d = 0; d < width; d++) row[d] /= used;
                    break;
                }
            }
        }
    }

    private ExtractionException NoValidToken(int sample) =>
        new($"mask '{_options.MaskInput}' marks no token of sample {sample} as valid; every sample needs at least one non-zero mask value");

    private static double[] ToDouble(OrtValue output, TensorElementType type, string layer)
    {
        switch (type)
        {
            case TensorElementType.Float:
            {
                var span = output.GetTensorDataAsSpan<float>();
                var result = new double[span.Length];
                for (int k = 0; k < span.Length; k++) result[k] = span[k];
                return result;
            }
            case TensorElementType.Double:
                return output.GetTensorDataAsSpan<double>().ToArray();
            case TensorElementType.Float16:
            {
                var span = output.GetTensorDataAsSpan<Float16>();
                var result = new double[span.Length];
                for (int k = 0; k < span.Length; k++) result[k] = span[k].ToFloat();
                return result;
            }
            case TensorElementType.BFloat16:
            {
                var span = output.GetTensorDataAsSpan<BFloat16>();
                var result = new double[span.Length];
                for (int k = 0; k < span.Length; k++) result[k] = span[k].ToFloat();
                return result;
            }
            default:
                throw new ExtractionException(
                    $"layer '{layer}' holds {TypeName(type)} values; features must be floating point (float, double, float16, bfloat16)");
        }
    }

    private static bool IsFloatType(TensorElementType type) =>
        type is TensorElementType.Float or TensorElementType.Double or TensorElementType.Float16 or TensorElementType.BFloat16;

    /// <summary>The ONNX spelling of an element type: float, int64, ...</summary>
    public static string TypeName(TensorElementType type) => type switch
    {
        TensorElementType.Float => "float",
        TensorElementType.Double => "double",
        TensorElementType.Float16 => "float16",
        TensorElementType.BFloat16 => "bfloat16",
        TensorElementType.Int64 => "int64",
        TensorElementType.Int32 => "int32",
        TensorElementType.Int16 => "int16",
        TensorElementType.Int8 => "int8",
        TensorElementType.UInt8 => "uint8",
        TensorElementType.UInt16 => "uint16",
        TensorElementType.UInt32 => "uint32",
        TensorElementType.UInt64 => "uint64",
        TensorElementType.Bool => "bool",
        TensorElementType.String => "string",
        TensorElementType.DataTypeMax => "non-tensor",
        _ => type.ToString().ToLowerInvariant(),
    };

    internal static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";

    private static string Position(int[] shape, long flat)
    {
        var at = new long[shape.Length];
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            at[k] = flat % shape[k];
            flat /= shape[k];
        }
        return "[" + string.Join(", ", at) + "]";
    }
}
