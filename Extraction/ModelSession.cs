using System.Numerics.Tensors;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Prh.Extraction.Onnx;

namespace Prh.Extraction;

/// <summary>How a model's sample axis (axis 0) is run.</summary>
public enum BatchMode
{
    /// <summary>The model's inputs leave the sample axis free: it runs batches of <see cref="ExtractionOptions.BatchSize"/>.</summary>
    Free,

    /// <summary>
    /// The inputs fix it, it was made symbolic (<see cref="OnnxGraph.WithSymbolicBatch"/>) and two samples run
    /// at once gave what each gave alone: it runs batches of <see cref="ExtractionOptions.BatchSize"/>.
    /// </summary>
    MadeSymbolic,

    /// <summary>
    /// The inputs fix it and a symbolic axis did not hold (ONNX Runtime refused it, or two samples at once
    /// differed from each alone, as with a Reshape to a constant batch size): it runs batches of exactly the
    /// fixed size, the last one filled up with copies of its last sample whose results are dropped.
    /// </summary>
    Fixed,
}

/// <summary>The size a model's inputs fix the sample axis at (null when they leave it free) and how it runs.</summary>
public sealed record BatchAxis(int? FixedSize, BatchMode Mode)
{
    public static readonly BatchAxis Free = new(null, BatchMode.Free);

    /// <summary>"batch axis free", "batch axis fixed at 1: made symbolic, runs batched" or "batch axis fixed at 1: runs 1 sample at a time".</summary>
    public override string ToString() => Mode switch
    {
        BatchMode.Free => "batch axis free",
        BatchMode.MadeSymbolic => $"batch axis fixed at {FixedSize}: made symbolic, runs batched",
        _ => $"batch axis fixed at {FixedSize}: runs {FixedSize} sample{(FixedSize == 1 ? "" : "s")} at a time",
    };

    /// <summary>
    /// How <paramref name="graph"/> would run: free, or, for a fixed sample axis, whether the symbolic one
    /// holds, found by loading it into a CPU session and running two synthetic samples (cheap next to a
    /// real extraction, but not free: only models that fix the axis pay it).
    /// </summary>
    public static BatchAxis Probe(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        if (graph.FixedBatch() is null) return Free;
        using var session = ModelSession.Open(graph, [], allowCuda: false);
        return session.Batch;
    }
}

/// <summary>
/// One ONNX Runtime session over a model (its chosen tensors made outputs) with its inputs' metadata and
/// its <see cref="BatchAxis"/>; runs it with errors that name the model and the inputs given.
/// </summary>
internal sealed class ModelSession : IDisposable
{
    private readonly RunOptions _runOptions = new();
    private readonly Dictionary<string, ModelInput> _inputs;

    private ModelSession(InferenceSession session, string provider, string source, BatchAxis batch)
    {
        Session = session;
        ExecutionProvider = provider;
        Source = source;
        Batch = batch;
        _inputs = session.InputMetadata.ToDictionary(kv => kv.Key, kv => ModelInput.Of(kv.Key, kv.Value), StringComparer.Ordinal);
        Inputs = session.InputNames.Select(n => _inputs[n]).ToList();
    }

    public InferenceSession Session { get; }
    public string ExecutionProvider { get; }
    public string Source { get; }
    public BatchAxis Batch { get; }

    /// <summary>The model's inputs (initializers excluded), in the model's order.</summary>
    public IReadOnlyList<ModelInput> Inputs { get; }

    public ModelInput Input(string name) => _inputs[name];

    /// <summary>
    /// A session over <paramref name="graph"/> with <paramref name="outputs"/> added to its outputs. A model
    /// whose inputs fix the sample axis is first tried with the axis symbolic, kept only when ONNX Runtime
    /// loads it and a batch runs as its samples run alone (<see cref="BatchesLikeSamples"/>).
    /// </summary>
    public static ModelSession Open(OnnxGraph graph, IReadOnlyList<string> outputs, bool allowCuda)
    {
        if (graph.FixedBatch() is not { } size) return Create(graph.WithOutputs(outputs), allowCuda, graph.Source, BatchAxis.Free);
        ModelSession? symbolic = null;
        try
        {
            symbolic = Create(graph.WithSymbolicBatch().WithOutputs(outputs), allowCuda, graph.Source, new BatchAxis(size, BatchMode.MadeSymbolic));
        }
        catch (ExtractionException)
        {
            // ONNX Runtime refused the symbolic axis (a shape it can no longer infer): run the file's fixed one below.
        }
        if (symbolic is not null)
        {
            if (symbolic.BatchesLikeSamples()) return symbolic;
            symbolic.Dispose();
        }
        return Create(graph.WithOutputs(outputs), allowCuda, graph.Source, new BatchAxis(size, BatchMode.Fixed));
    }

    private static ModelSession Create(byte[] model, bool allowCuda, string source, BatchAxis batch)
    {
        if (allowCuda && OrtEnv.Instance().GetAvailableProviders().Contains(FeatureExtractor.Cuda))
        {
            // The provider can be listed yet fail to start (no device, missing CUDA libraries): fall back to the CPU.
            SessionOptions? cudaOptions = null;
            try
            {
                cudaOptions = SessionOptions.MakeSessionOptionWithCudaProvider(0);
                return new ModelSession(new InferenceSession(model, cudaOptions), FeatureExtractor.Cuda, source, batch);
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
            return new ModelSession(new InferenceSession(model, options), FeatureExtractor.Cpu, source, batch);
        }
        catch (OnnxRuntimeException e)
        {
            throw new ExtractionException($"{source}: ONNX Runtime cannot load the model: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the model on the samples <paramref name="rows"/> describes ("samples 32-63"); a refusal names the model,
    /// those samples (an id beyond the vocabulary fails its batch) and each input given with its shape and the model's.
    /// </summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(IReadOnlyList<string> inputNames, IReadOnlyList<OrtValue> values, IReadOnlyCollection<string> outputs, string rows)
    {
        try
        {
            return Session.Run(_runOptions, inputNames, values, outputs);
        }
        catch (OnnxRuntimeException e)
        {
            string given = string.Join(", ", inputNames.Select((name, k) =>
                $"{name} {FeatureExtractor.TypeName(_inputs[name].ElementType)} {FeatureExtractor.FormatShape(values[k].GetTensorTypeAndShape().Shape)} " +
                    $"(model: {_inputs[name].ShapeText})"));
            throw new ExtractionException($"{Source}: ONNX Runtime refused {rows}, inputs {given}: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether two synthetic samples run at once give every output, shape and values, that each gives run
    /// alone: within 1e-5 of max(|value|, 1), the float32 noise of a batched kernel; a Reshape to a constant
    /// batch size breaks it (a wrong shape, or a refusal). Float inputs are uniform in [-1, 1) (the two
    /// samples differ), integer inputs 1 and bool inputs true (an id and a mask any model takes); axes the
    /// model leaves free past axis 0 get size 1. An input of another element type cannot be made: false.
    /// </summary>
    private bool BatchesLikeSamples()
    {
        var random = new Random(1);
        var makers = new List<Func<int, int, OrtValue>>();
        foreach (var input in Inputs)
        {
            if (SyntheticInput(input, random) is not { } maker) return false;
            makers.Add(maker);
        }
        var names = Inputs.Select(i => i.Name).ToList();
        var outputs = Session.OutputNames;
        try
        {
            using var both = RunSynthetic(makers, names, 0, 2);
            using var first = RunSynthetic(makers, names, 0, 1);
            using var second = RunSynthetic(makers, names, 1, 1);
            for (int o = 0; o < outputs.Count; o++)
            {
                var batched = both[o].GetTensorTypeAndShape();
                var alone = first[o].GetTensorTypeAndShape();
                if (batched.Shape is not [2, ..] || alone.Shape is not [1, ..] || !batched.Shape.AsSpan(1).SequenceEqual(alone.Shape.AsSpan(1))
                    || !second[o].GetTensorTypeAndShape().Shape.SequenceEqual(alone.Shape)) return false;
                if (!FeatureExtractor.IsFloatType(batched.ElementDataType)) continue; // ids, masks: the shapes are what a batch can break
                int size = checked((int)alone.ElementCount);
                var together = new double[2 * size];
                var each = new double[2 * size];
                ActivationValues.Copy(both[o], batched.ElementDataType, 0, together);
                ActivationValues.Copy(first[o], batched.ElementDataType, 0, each.AsSpan(0, size));
                ActivationValues.Copy(second[o], batched.ElementDataType, 0, each.AsSpan(size));
                for (int k = 0; k < together.Length; k++)
                    if (!(Math.Abs(together[k] - each[k]) <= 1e-5 * Math.Max(Math.Max(Math.Abs(together[k]), Math.Abs(each[k])), 1.0))
                        && !(double.IsNaN(together[k]) && double.IsNaN(each[k]))) return false;
            }
            return true;
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }
    }

    private IDisposableReadOnlyCollection<OrtValue> RunSynthetic(List<Func<int, int, OrtValue>> makers, List<string> names, int first, int count)
    {
        var values = makers.Select(make => make(first, count)).ToList();
        try
        {
            return Session.Run(_runOptions, names, values, Session.OutputNames);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    /// <summary>Two samples of <paramref name="input"/>: a function of (first sample, count) to an OrtValue over them; null for an element type it cannot make.</summary>
    private static Func<int, int, OrtValue>? SyntheticInput(ModelInput input, Random random)
    {
        long[] sample = input.Dimensions.Skip(1).Select(d => d > 0 ? d : 1).ToArray();
        int size = checked((int)sample.Aggregate(1L, (a, d) => a * d));
        return input.ElementType switch
        {
            TensorElementType.Float => Over(Enumerable.Range(0, 2 * size).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), size, sample),
            TensorElementType.Double => Over(Enumerable.Range(0, 2 * size).Select(_ => random.NextDouble() * 2 - 1).ToArray(), size, sample),
            TensorElementType.Int64 => Over(Enumerable.Repeat(1L, 2 * size).ToArray(), size, sample),
            TensorElementType.Int32 => Over(Enumerable.Repeat(1, 2 * size).ToArray(), size, sample),
            TensorElementType.Bool => Over(Enumerable.Repeat(true, 2 * size).ToArray(), size, sample),
            _ => null,
        };
    }

    private static Func<int, int, OrtValue> Over<T>(T[] data, int size, long[] sample) where T : unmanaged =>
        (first, count) => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, data.AsMemory(first * size, count * size), [count, .. sample]);

    public void Dispose()
    {
        Session.Dispose();
        _runOptions.Dispose();
    }
}

/// <summary>Floating-point tensor values read as doubles.</summary>
internal static class ActivationValues
{
    /// <summary>
    /// Elements [start, start + target.Length) of a float, double, float16 or bfloat16 tensor, as doubles;
    /// a tensor of another element type is an error naming <paramref name="layer"/>.
    /// </summary>
    public static void Copy(OrtValue value, TensorElementType type, int start, Span<double> target, string layer = "output")
    {
        switch (type)
        {
            case TensorElementType.Float:
                TensorPrimitives.ConvertChecked<float, double>(value.GetTensorDataAsSpan<float>().Slice(start, target.Length), target);
                break;
            case TensorElementType.Double:
                value.GetTensorDataAsSpan<double>().Slice(start, target.Length).CopyTo(target);
                break;
            case TensorElementType.Float16:
            {
                var span = value.GetTensorDataAsSpan<Float16>().Slice(start, target.Length);
                for (int k = 0; k < span.Length; k++) target[k] = span[k].ToFloat();
                break;
            }
            case TensorElementType.BFloat16:
            {
                var span = value.GetTensorDataAsSpan<BFloat16>().Slice(start, target.Length);
                for (int k = 0; k < span.Length; k++) target[k] = span[k].ToFloat();
                break;
            }
            default:
                throw new ExtractionException(
                    $"layer '{layer}' holds {FeatureExtractor.TypeName(type)} values; features must be floating point (float, double, float16, bfloat16)");
        }
    }
}
