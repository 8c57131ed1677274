using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Prh.Extraction.Onnx;

/// <summary>
/// What <c>prh inspect</c> shows: the graph's inputs, outputs and every intermediate tensor with its shape, and how
/// extraction runs its sample axis (null when ONNX Runtime cannot load the model).
/// </summary>
public sealed record ModelInspection(
    OnnxGraph Graph, IReadOnlyList<OnnxValue> Inputs, IReadOnlyList<OnnxValue> Outputs, IReadOnlyList<OnnxTensor> Tensors, string ShapesFrom, BatchAxis? Batch);

/// <summary>
/// Finds every intermediate tensor's element type and shape by asking ONNX Runtime: the model is
/// edited so every node output is a graph output, loaded into a CPU session (nothing is run), and
/// each output's inferred type and shape (symbolic axes by name) read from its metadata. When ONNX
/// Runtime cannot load the edited model (an op it lacks, say), the types and shapes the file records
/// (value_info and the declared outputs) are shown instead, "?" where it records none. A model whose
/// inputs fix the sample axis is also tried with it symbolic (<see cref="BatchAxis.Probe"/>).
/// </summary>
public static class OnnxInspector
{
    public const string FromOnnxRuntime = "onnxruntime";
    public const string FromValueInfo = "value_info";

    public static ModelInspection Inspect(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ModelInspection inspection;
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
            using var session = new InferenceSession(graph.WithOutputs(graph.Tensors.Select(t => t.Name)), options);
            var tensors = graph.Tensors.Select(t => session.OutputMetadata.TryGetValue(t.Name, out var meta) && meta.IsTensor
                ? t with { ElementType = FeatureExtractor.TypeName(meta.ElementDataType), Shape = Shape(meta) }
                : t).ToList();
            var inputs = graph.Inputs.Select(v => session.InputMetadata.TryGetValue(v.Name, out var meta) && meta.IsTensor
                ? v with { ElementType = FeatureExtractor.TypeName(meta.ElementDataType), Shape = Shape(meta) }
                : v).ToList();
            var outputs = graph.Outputs.Select(v => session.OutputMetadata.TryGetValue(v.Name, out var meta) && meta.IsTensor
                ? v with { ElementType = FeatureExtractor.TypeName(meta.ElementDataType), Shape = Shape(meta) }
                : v).ToList();
            inspection = new ModelInspection(graph, inputs, outputs, tensors, FromOnnxRuntime, null);
        }
        catch (OnnxRuntimeException)
        {
            return new ModelInspection(graph, graph.Inputs, graph.Outputs, graph.Tensors, FromValueInfo, null);
        }
        // Probed outside the try: the model loads, so a failure here is a fault of its own, reported as such.
        return inspection with { Batch = BatchAxis.Probe(graph) };
    }

    private static IReadOnlyList<string>? Shape(NodeMetadata meta)
    {
        var dims = meta.Dimensions;
        if (dims.Length == 0 && meta.SymbolicDimensions.Length == 0) return []; // a scalar, or a rank ORT could not infer
        return dims.Select((d, i) =>
            d >= 0 ? d.ToString(CultureInfo.InvariantCulture)
            : i < meta.SymbolicDimensions.Length && meta.SymbolicDimensions[i] is { Length: > 0 } s ? s : "?").ToList();
    }
}
