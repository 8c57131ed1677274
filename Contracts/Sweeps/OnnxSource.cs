using Prh.Extraction;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// An ONNX model and what to take from it: layers by tensor name or every output of one operator
/// type, the pooling of 3-D and 4-D activations, the input holding the token mask, which dataset input
/// feeds each model input (by default the dataset input of the same name), and a preprocessing ONNX
/// model (path or stored blob) run on the dataset inputs before it.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.OnnxSource")]
public sealed record OnnxSource(
    [property: Id(0)] string Path,
    [property: Id(1)] IReadOnlyList<string>? Layers = null,
    [property: Id(2)] string? LayerOp = null,
    [property: Id(3)] Pooling Pool = Pooling.Mean,
    [property: Id(4)] string? Mask = null,
    [property: Id(5)] IReadOnlyDictionary<string, string>? Inputs = null,
    [property: Id(6)] string? Preprocess = null)
{
    public bool Equals(OnnxSource? other) => other is not null && Path == other.Path && LayerOp == other.LayerOp && Pool == other.Pool && Mask == other.Mask
        && (Layers ?? []).SequenceEqual(other.Layers ?? []) && Contents.SameMap(Inputs, other.Inputs) && Preprocess == other.Preprocess;

    public override int GetHashCode() => HashCode.Combine(Path, LayerOp, Pool, Mask);

    /// <summary>What is taken from the model: layers, pooling, mask and the input mapping (with the model's content, it names an extraction).</summary>
    public string Selection => string.Join("\n", string.Join(",", Layers ?? []), LayerOp, PoolingNames.Name(Pool), Mask,
        string.Join(",", (Inputs ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")));
}
