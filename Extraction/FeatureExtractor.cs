using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prh.Alignment.Features;
using Prh.Extraction.Onnx;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction;

/// <summary>What to extract: the layers, how to pool them, the mask input, the batch size, the preprocessing.</summary>
public sealed record ExtractionOptions
{
    public required LayerSelection Layers { get; init; }
    public Pooling Pooling { get; init; } = Pooling.Mean;

    /// <summary>The input holding the [N, T] token mask (non-zero = valid) that Mean and Last pooling of token layers respect.</summary>
    public string? MaskInput { get; init; }

    /// <summary>
    /// Samples per ONNX Runtime run. A model whose inputs fix the sample axis runs it too when the axis could be
    /// made symbolic, and runs its fixed size otherwise (<see cref="BatchMode"/>; <see cref="FeatureExtractor.Batch"/> says which).
    /// </summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Use CUDA when ONNX Runtime offers it (the GPU package on a machine with a GPU); CPU otherwise.</summary>
    public bool AllowCuda { get; init; } = true;

    /// <summary>
    /// The .onnx bytes of a preprocessing model (optional), run batch by batch on the given inputs before the
    /// model. Its inputs are taken from the caller's inputs by name, or, when it has one input and the caller
    /// gives one tensor, from that tensor whatever its name. Its outputs feed the model's inputs of the same
    /// names, or, when it has exactly one output and the model exactly one input, that output feeds that input
    /// whatever the names; model inputs it does not feed are taken from the caller's inputs by name. Outputs
    /// that feed none of the model's inputs, or feed one a different element type or fixed size, are errors
    /// naming both models.
    /// </summary>
    public byte[]? Preprocess { get; init; }

    /// <summary>How errors name the preprocessing model (its file, say).</summary>
    public string PreprocessSource { get; init; } = "preprocessing model";
}

/// <summary>A model input as ONNX Runtime reports it: element type and shape (-1 for a free axis).</summary>
public sealed record ModelInput(string Name, TensorElementType ElementType, long[] Dimensions, string[] SymbolicDimensions)
{
    public string ShapeText => "[" + string.Join(", ", Dimensions.Select((d, i) =>
        d >= 0 ? d.ToString(CultureInfo.InvariantCulture)
        : i < SymbolicDimensions.Length && SymbolicDimensions[i].Length > 0 ? SymbolicDimensions[i] : "?")) + "]";

    internal static ModelInput Of(string name, NodeMetadata meta) => new(
        name, meta.IsTensor ? meta.ElementDataType : TensorElementType.DataTypeMax,
        meta.IsTensor ? meta.Dimensions.Select(d => (long)d).ToArray() : [],
        meta.IsTensor ? meta.SymbolicDimensions : []);
}

/// <summary>
/// Runs an ONNX model with ONNX Runtime and turns chosen intermediate tensors into per-sample
/// features. The model is edited once so the chosen tensors are graph outputs (and, when its inputs fix
/// the sample axis, so that axis is symbolic where that holds: <see cref="BatchMode"/>) and one session is
/// created for it (expensive), then <see cref="Extract"/> may be called any number of times. Inputs are
/// fed in batches (<see cref="SamplesPerRun"/>), through the preprocessing model first when there is one
/// (<see cref="ExtractionOptions.Preprocess"/>); each layer's activation is pooled per sample
/// (<see cref="Pooling"/>) into an N x D layer.
/// </summary>
public sealed class FeatureExtractor : IDisposable
{
    public const string Cuda = "CUDAExecutionProvider";
    public const string Cpu = "CPUExecutionProvider";

    private readonly ModelSession _model;
    private readonly ModelSession? _preprocess;
    private readonly ExtractionOptions _options;

    /// <summary>What Extract takes from the caller: the preprocessing model's inputs, then the model's inputs it does not feed.</summary>
    private readonly List<(ModelInput Input, bool ToPreprocess)> _needs;

    /// <summary>Per model input: the preprocessing output feeding it (an index into <see cref="_preprocessOutputs"/>), or -1 when the caller does.</summary>
    private readonly int[] _fedBy;

    private readonly string[] _preprocessOutputs = [];

    /// <summary>The batch size every run must have when a model runs only its fixed size (<see cref="BatchMode.Fixed"/>).</summary>
    private readonly int? _fixedRun;

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
        var preprocessGraph = options.Preprocess is { } bytes ? OnnxGraph.Parse(bytes, options.PreprocessSource) : null;

        _model = ModelSession.Open(graph, Layers, options.AllowCuda);
        try
        {
            _fedBy = Enumerable.Repeat(-1, _model.Inputs.Count).ToArray();
            if (preprocessGraph is not null)
            {
                _preprocess = ModelSession.Open(preprocessGraph, [], options.AllowCuda);
                _preprocessOutputs = Connect(_preprocess);
            }
            _needs = (_preprocess?.Inputs ?? []).Select(i => (i, true))
                .Concat(_model.Inputs.Where((_, k) => _fedBy[k] < 0).Select(i => (i, false))).ToList();
            if (options.MaskInput is { } mask && _needs.All(n => n.Input.Name != mask))
                throw new ExtractionException(
                    $"{Source}: mask '{mask}' is not an input of the model{(_preprocess is null ? "" : $" or of its preprocessing {_preprocess.Source}")}; its inputs are " +
                        $"{string.Join(", ", _needs.Select(n => n.Input.Name).Distinct())}");
            if (_model.Batch.Mode == BatchMode.Fixed && _preprocess?.Batch.Mode == BatchMode.Fixed && _model.Batch.FixedSize != _preprocess.Batch.FixedSize)
                throw new ExtractionException(
                    $"{Source} runs only {_model.Batch.FixedSize} samples at a time and its preprocessing {_preprocess.Source} only {_preprocess.Batch.FixedSize}; " +
                        "give them the same fixed batch size, or a free one");
            _fixedRun = new[] { _model.Batch, _preprocess?.Batch }.FirstOrDefault(b => b?.Mode == BatchMode.Fixed)?.FixedSize;
            CheckLayerShapes();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static FeatureExtractor FromFile(string path, ExtractionOptions options) => new(OnnxGraph.Load(path), options);

    public OnnxGraph Graph { get; }
    public string Source => Graph.Source;

    /// <summary>The tensors extracted, one feature layer each, in this order.</summary>
    public IReadOnlyList<string> Layers { get; }

    /// <summary>Each layer's width (C of a 4-D layer, else its last axis) where ONNX Runtime's shape inference fixes it before a run, else null.</summary>
    public IReadOnlyList<int?> KnownWidths => Layers.Select(l =>
        _model.Session.OutputMetadata.TryGetValue(l, out var meta) && meta.IsTensor && meta.Dimensions.Length > 0
            && meta.Dimensions[LayerPooling.WidthAxis(meta.Dimensions.Length)] is > 0 and var width
            ? (int?)width : null).ToList();

    /// <summary>The execution provider the model's session runs on: <see cref="Cuda"/> or <see cref="Cpu"/>.</summary>
    public string ExecutionProvider => _model.ExecutionProvider;

    /// <summary>The model's sample axis: free, fixed and made symbolic, or fixed and run at its size.</summary>
    public BatchAxis Batch => _model.Batch;

    /// <summary>The preprocessing model's sample axis; null without one.</summary>
    public BatchAxis? PreprocessBatch => _preprocess?.Batch;

    /// <summary>
    /// Samples per ONNX Runtime run for <paramref name="n"/> samples: the fixed size when a model runs only that
    /// (<see cref="BatchMode.Fixed"/>), else <see cref="ExtractionOptions.BatchSize"/>, or N when smaller.
    /// </summary>
    public int SamplesPerRun(int n) => _fixedRun ?? Math.Min(_options.BatchSize, n);

    /// <summary>
    /// The inputs <see cref="Extract"/> takes: the model's (initializers excluded), in the model's order; with
    /// preprocessing, the preprocessing model's, then those of the model's it does not feed.
    /// </summary>
    public IReadOnlyList<ModelInput> Inputs => _needs.Select(n => n.Input).DistinctBy(i => i.Name).ToList();

    /// <summary>
    /// Runs the model on <paramref name="inputs"/> (input name to tensor; axis 0 is the sample axis, every
    /// input has the same N) and returns one N x D layer per requested tensor.
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
            var m = feeds.First(f => f.Input.Name == maskName).Tensor;
            if (m.Rank != 2)
                throw new ExtractionException(
                    $"mask '{maskName}' has shape {FormatShape(m.Shape)}; a token mask must be [N, T] (1 for a valid token, 0 for padding)");
            mask = m.Values;
            maskTokens = m.Shape[1];
        }

        var results = new double[Layers.Count][];
        var widths = new int[Layers.Count];
        var tokenRows = new double[Layers.Count][]; // per layer, one token's row as doubles (mean pooling's scratch)
        int batch = SamplesPerRun(n);
        var buffers = feeds.Select(f => Feed.Allocate(f, batch)).ToArray();
        var preprocessNames = feeds.Where(f => f.ToPreprocess).Select(f => f.Input.Name).ToArray();
        var modelNames = _model.Inputs.Select(i => i.Name).ToArray();
        var outputNames = Layers.ToArray();
        for (int start = 0; start < n; start += batch)
        {
            int count = Math.Min(batch, n - start);
            int size = _fixedRun ?? count;
            var values = new List<OrtValue>(feeds.Count);
            IDisposableReadOnlyCollection<OrtValue>? preprocessed = null;
            try
            {
                for (int k = 0; k < feeds.Count; k++) values.Add(buffers[k].Fill(start, count, size));
                string rows = count == 1 ? $"sample {start}" : $"samples {start}-{start + count - 1}";
                if (_preprocess is not null)
                    preprocessed = _preprocess.Run(preprocessNames, values.Where((_, k) => feeds[k].ToPreprocess).ToList(), _preprocessOutputs, rows);
                var modelValues = new OrtValue[modelNames.Length];
                for (int i = 0; i < modelNames.Length; i++)
                    modelValues[i] = _fedBy[i] >= 0 ? preprocessed![_fedBy[i]] : values[feeds.FindIndex(f => !f.ToPreprocess && f.Input.Name == modelNames[i])];
                using var outputs = _model.Run(modelNames, modelValues, outputNames, rows);
                for (int l = 0; l < outputNames.Length; l++)
                    Pool(l, outputs[l], start, count, size, n, mask, maskTokens, results, widths, tokenRows);
            }
            finally
            {
                preprocessed?.Dispose();
                foreach (var v in values) v.Dispose();
            }
        }
        var layers = new List<LayerFeatures>(Layers.Count);
        for (int l = 0; l < Layers.Count; l++) layers.Add(new LayerFeatures(n, widths[l], results[l]));
        return new ModelFeatures(Source, layers);
    }

    public void Dispose()
    {
        _model.Dispose();
        _preprocess?.Dispose();
    }

    /// <summary>
    /// Which preprocessing outputs feed which model inputs (filling <see cref="_fedBy"/>), checked for element
    /// type and fixed sizes; returns the outputs to ask the preprocessing model for.
    /// </summary>
    private string[] Connect(ModelSession preprocess)
    {
        var outputs = preprocess.Session.OutputNames;
        var inputs = _model.Inputs;
        string Outputs() => string.Join(", ", outputs.Select(o => $"{o} {Describe(ModelInput.Of(o, preprocess.Session.OutputMetadata[o]))}"));
        string Inputs() => string.Join(", ", inputs.Select(i => $"{i.Name} {Describe(i)}"));
        var used = new List<string>();
        for (int k = 0; k < inputs.Count; k++)
        {
            string? output = outputs.Count == 1 && inputs.Count == 1 ? outputs[0] : outputs.FirstOrDefault(o => o == inputs[k].Name);
            if (output is null) continue;
            var produced = ModelInput.Of(output, preprocess.Session.OutputMetadata[output]);
            var input = inputs[k];
            string link = $"{preprocess.Source}'s output '{output}' ({Describe(produced)}) cannot feed {Source}'s input '{input.Name}' ({Describe(input)})";
            if (produced.ElementType != input.ElementType)
                throw new ExtractionException($"{link}: the element types differ");
            if (produced.Dimensions.Length > 0 && input.Dimensions.Length > 0)
            {
                if (produced.Dimensions.Length != input.Dimensions.Length)
                    throw new ExtractionException($"{link}: the ranks differ");
                for (int axis = 1; axis < input.Dimensions.Length; axis++)
                    if (produced.Dimensions[axis] > 0 && input.Dimensions[axis] > 0 && produced.Dimensions[axis] != input.Dimensions[axis])
                        throw new ExtractionException($"{link}: axis {axis} is {produced.Dimensions[axis]} but the model takes {input.Dimensions[axis]}");
            }
            if (!used.Contains(output)) used.Add(output);
            _fedBy[k] = used.IndexOf(output);
        }
        if (used.Count == 0)
            throw new ExtractionException(
                $"{preprocess.Source} feeds none of {Source}'s inputs: its outputs are {Outputs()}, the model's inputs {Inputs()}; a preprocessing model's outputs " +
                    "feed the model's inputs of the same names, or its one output the model's one input");
        return used.ToArray();
    }

    private static string Describe(ModelInput value) => $"{TypeName(value.ElementType)} {value.ShapeText}";

    /// <summary>Refuses, before any run, layers whose known rank the pooling cannot handle.</summary>
    private void CheckLayerShapes()
    {
        foreach (string layer in Layers)
        {
            if (!_model.Session.OutputMetadata.TryGetValue(layer, out var meta) || !meta.IsTensor) continue;
            if (!IsFloatType(meta.ElementDataType))
                throw new ExtractionException(
                    $"{Source}: layer '{layer}' holds {TypeName(meta.ElementDataType)} values; features must be floating point (float, double, float16, bfloat16)");
            int rank = meta.Dimensions.Length;
            if (rank == 0) continue; // rank unknown until it runs
            CheckRank(layer, rank, ModelInput.Of(layer, meta).ShapeText);
        }
    }

    private void CheckRank(string layer, int rank, string shape)
    {
        if (LayerPooling.Refusal(_options.Pooling, rank) is { } reason)
            throw new ExtractionException($"{Source}: layer '{layer}' has shape {shape}{reason}");
    }

    private sealed record FeedSpec(Tensor Tensor, ModelInput Input, bool ToPreprocess, int SampleSize);

    /// <summary>Checks names, sample counts, ranks, fixed dimensions and element types against the inputs the models take.</summary>
    private List<FeedSpec> CheckInputs(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var needs = _needs.DistinctBy(n => n.Input.Name).ToList();
        string needed = string.Join(", ", needs.Select(n => $"{n.Input.Name} {Describe(n.Input)}"));
        string taker = _preprocess is null ? "the model" : $"the model with its preprocessing {_preprocess.Source}";
        // A preprocessing model's one input takes the caller's one tensor whatever its name.
        var single = _preprocess is { Inputs.Count: 1 } && needs.Count == 1 && inputs.Count == 1 ? inputs.Values.Single() : null;
        if (single is null)
        {
            foreach (string name in inputs.Keys)
                if (needs.All(n => n.Input.Name != name))
                    throw new ExtractionException($"{Source}: {taker} has no input '{name}'; its inputs are {needed}");
            foreach (var (input, _) in needs)
                if (!inputs.ContainsKey(input.Name))
                    throw new ExtractionException($"{Source}: input '{input.Name}' ({Describe(input)}) is missing; {taker} needs {needed}");
        }

        var feeds = new List<FeedSpec>();
        FeedSpec? first = null;
        foreach (var (input, toPreprocess) in _needs)
        {
            string name = input.Name;
            var tensor = single ?? inputs[name];
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
            int sampleSize = 1;
            for (int axis = 1; axis < tensor.Rank; axis++) sampleSize = checked(sampleSize * tensor.Shape[axis]);
            var feed = new FeedSpec(tensor, input, toPreprocess, sampleSize);
            if (first is not null && tensor.Shape[0] != first.Tensor.Shape[0])
                throw new ExtractionException(
                    $"inputs differ in sample count: '{name}' has N = {tensor.Shape[0]} (shape {FormatShape(tensor.Shape)}) but '{first.Input.Name}' has N = " +
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
                    $"input '{feed.Input.Name}' takes {TypeName(type)} values (token ids, masks) but holds {v.ToString("R", CultureInfo.InvariantCulture)} at " +
                        $"{Position(feed.Tensor.Shape, k)}; " +
                    (type == TensorElementType.Bool ? "only 0 and 1 convert to bool" : "only whole numbers in range convert"));
        }
    }

    /// <summary>A reusable per-input batch buffer of the model's element type.</summary>
    private abstract class Feed(FeedSpec spec)
    {
        private delegate void Converter<T>(ReadOnlySpan<double> from, Span<T> to);

        public FeedSpec Spec { get; } = spec;

        public static Feed Allocate(FeedSpec spec, int batch)
        {
            int length = checked(batch * spec.SampleSize);
            return spec.Input.ElementType switch
            {
                TensorElementType.Float => new Typed<float>(spec, length, TensorPrimitives.ConvertTruncating<double, float>),
                TensorElementType.Double => new Typed<double>(spec, length, (from, to) => from.CopyTo(to)),
                TensorElementType.Int64 => new Typed<long>(spec, length, TensorPrimitives.ConvertTruncating<double, long>),
                TensorElementType.Int32 => new Typed<int>(spec, length, TensorPrimitives.ConvertTruncating<double, int>),
                _ => new Typed<bool>(spec, length, (from, to) =>
                {
                    for (int k = 0; k < from.Length; k++) to[k] = from[k] != 0;
                }),
            };
        }

        /// <summary>
        /// An OrtValue of <paramref name="size"/> samples, which the caller disposes: samples [start, start + count),
        /// then copies of the last of them up to <paramref name="size"/> (a fixed-size run's short last batch; their results are dropped).
        /// </summary>
        public abstract OrtValue Fill(int start, int count, int size);

        private sealed class Typed<T>(FeedSpec spec, int length, Converter<T> convert) : Feed(spec) where T : unmanaged
        {
            private readonly T[] _buffer = new T[length];

            public override OrtValue Fill(int start, int count, int size)
            {
                int sample = Spec.SampleSize;
                convert(Spec.Tensor.Values.AsSpan(start * sample, count * sample), _buffer.AsSpan(0, count * sample));
                var last = _buffer.AsSpan((count - 1) * sample, sample);
                for (int s = count; s < size; s++) last.CopyTo(_buffer.AsSpan(s * sample, sample));
                var shape = Spec.Tensor.Shape.Select(d => (long)d).ToArray();
                shape[0] = size;
                return OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, _buffer.AsMemory(0, size * sample), shape);
            }
        }
    }

    /// <summary>
    /// Pools the first <paramref name="count"/> samples of layer <paramref name="l"/>'s activation for a run of
    /// <paramref name="size"/> samples into rows start.. of its N x D result (<see cref="Pooling"/>).
    /// </summary>
    private void Pool(int l, OrtValue output, int start, int count, int size, int n, double[]? mask, int maskTokens, double[][] results, int[] widths,
        double[][] tokenRows)
    {
        string layer = Layers[l];
        if (!output.IsTensor)
            throw new ExtractionException($"{Source}: layer '{layer}' is not a tensor");
        var info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        string shown = FormatShape(shape);
        CheckRank(layer, shape.Length, shown);
        if (shape[0] != size)
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has shape {shown} for a batch of {size} samples; its axis 0 is not the sample axis, so it cannot be a per-sample feature");
        int width = checked((int)shape[LayerPooling.WidthAxis(shape.Length)]);
        long perSample = 1;
        for (int axis = 1; axis < shape.Length; axis++) perSample *= shape[axis];
        if (perSample == 0)
            throw new ExtractionException($"{Source}: layer '{layer}' has an empty shape {shown}");
        int sampleSize = checked((int)perSample);
        if (results[l] is null)
        {
            widths[l] = width;
            results[l] = new double[checked(n * width)];
        }
        else if (widths[l] != width)
        {
            throw new ExtractionException($"{Source}: layer '{layer}' is {widths[l]} wide in one batch and {width} in another ({shown})");
        }
        int tokens = shape.Length == 3 ? checked((int)shape[1]) : 1;
        if (shape.Length == 3 && mask is not null && maskTokens != tokens)
            throw new ExtractionException(
                $"{Source}: layer '{layer}' has {tokens} tokens ({shown}) but mask '{_options.MaskInput}' has {maskTokens}; pooling needs one mask value per token");

        var token = tokenRows[l] ??= new double[width];
        var target = results[l].AsSpan(start * width, count * width);
        var sampleMasks = mask is null || shape.Length != 3 ? default : mask.AsSpan(start * maskTokens, count * maskTokens);
        // Float and double activations are pooled where ONNX Runtime wrote them; the 16-bit types are read as doubles first.
        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                PoolSamples<float>(output.GetTensorDataAsSpan<float>()[..(count * sampleSize)], shape.Length, tokens, width, sampleMasks, token, target, start);
                break;
            case TensorElementType.Double:
                PoolSamples<double>(output.GetTensorDataAsSpan<double>()[..(count * sampleSize)], shape.Length, tokens, width, sampleMasks, token, target, start);
                break;
            default:
                var values = new double[count * sampleSize];
                ActivationValues.Copy(output, info.ElementDataType, 0, values, layer);
                PoolSamples<double>(values, shape.Length, tokens, width, sampleMasks, token, target, start);
                break;
        }
    }

    /// <summary>Pools each sample of a run's activation (samples back to back) into its row of <paramref name="target"/>.</summary>
    private void PoolSamples<T>(ReadOnlySpan<T> activation, int rank, int tokens, int width, ReadOnlySpan<double> masks, Span<double> token, Span<double> target,
        int start) where T : unmanaged, INumber<T>
    {
        int count = target.Length / width, sampleSize = activation.Length / count;
        int maskTokens = masks.IsEmpty ? 0 : masks.Length / count;
        for (int s = 0; s < count; s++)
        {
            var values = activation.Slice(s * sampleSize, sampleSize);
            var row = target.Slice(s * width, width);
            switch (rank)
            {
                case 2:
                    TensorPrimitives.ConvertChecked(values, row);
                    break;
                case 3:
                    if (!LayerPooling.Tokens(values, tokens, width, _options.Pooling, masks.Slice(s * maskTokens, maskTokens), token, row))
                        throw NoValidToken(start + s);
                    break;
                default:
                    LayerPooling.Spatial(values, width, sampleSize / width, _options.Pooling, row);
                    break;
            }
        }
    }

    private ExtractionException NoValidToken(int sample) =>
        new($"mask '{_options.MaskInput}' marks no token of sample {sample} as valid; every sample needs at least one non-zero mask value");

    internal static bool IsFloatType(TensorElementType type) =>
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

    internal static string FormatShape<T>(IEnumerable<T> shape) => "[" + string.Join(", ", shape) + "]";

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
