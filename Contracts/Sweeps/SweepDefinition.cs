using Prh.Extraction;
using Prh.Alignment.Metrics;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// A sweep as submitted: every model of one dataset scored against every other with each metric.
/// Paths are absolute (the client resolves them against the spec's folder). ONNX models run over the
/// dataset's <see cref="Inputs"/> (input name to a .npy/.safetensors file, first axis = sample) in
/// shards of <see cref="ShardSize"/> samples.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.SweepDefinition")]
public sealed record SweepDefinition(
    [property: Id(0)] string Name,
    [property: Id(1)] string Dataset,
    [property: Id(2)] IReadOnlyList<ModelDefinition> Models,
    [property: Id(3)] IReadOnlyList<MetricSpec> Metrics,
    [property: Id(4)] IReadOnlyDictionary<string, string>? Inputs = null,
    [property: Id(5)] int ShardSize = 256)
{
    /// <summary>Equal by content (lists and maps compared element by element), so a resubmitted sweep is recognised.</summary>
    public bool Equals(SweepDefinition? other) => other is not null && Name == other.Name && Dataset == other.Dataset
        && Models.SequenceEqual(other.Models) && Metrics.SequenceEqual(other.Metrics) && Contents.SameMap(Inputs, other.Inputs) && ShardSize == other.ShardSize;

    public override int GetHashCode() => HashCode.Combine(Name, Dataset, Models.Count, Metrics.Count, ShardSize);
}

/// <summary>One model of a sweep: a safe id and either a feature file or an ONNX model to extract from.</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelDefinition")]
public sealed record ModelDefinition([property: Id(0)] string Id, [property: Id(1)] string? Features, [property: Id(2)] OnnxSource? Onnx = null);

/// <summary>
/// An ONNX model and what to take from it: layers by tensor name or every output of one operator
/// type, the pooling of 3-D activations, the input holding the token mask, and which dataset input
/// feeds each model input (by default the dataset input of the same name).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.OnnxSource")]
public sealed record OnnxSource(
    [property: Id(0)] string Path,
    [property: Id(1)] IReadOnlyList<string>? Layers = null,
    [property: Id(2)] string? LayerOp = null,
    [property: Id(3)] Pooling Pool = Pooling.Mean,
    [property: Id(4)] string? Mask = null,
    [property: Id(5)] IReadOnlyDictionary<string, string>? Inputs = null)
{
    public bool Equals(OnnxSource? other) => other is not null && Path == other.Path && LayerOp == other.LayerOp && Pool == other.Pool && Mask == other.Mask
        && (Layers ?? []).SequenceEqual(other.Layers ?? []) && Contents.SameMap(Inputs, other.Inputs);

    public override int GetHashCode() => HashCode.Combine(Path, LayerOp, Pool, Mask);

    /// <summary>What is taken from the model: layers, pooling, mask and the input mapping (with the model's content, it names an extraction).</summary>
    public string Selection => string.Join("\n", string.Join(",", Layers ?? []), LayerOp, PoolingNames.Name(Pool), Mask,
        string.Join(",", (Inputs ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
}

internal static class Contents
{
    public static bool SameMap(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(p => b!.TryGetValue(p.Key, out var v) && v == p.Value);
}
