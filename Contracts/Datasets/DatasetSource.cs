using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Datasets;

/// <summary>
/// Where a dataset's inputs for its ONNX models come from: <see cref="Files"/> (input name to a .npy or
/// .safetensors file or stored blob, first axis = sample) with, optionally, <see cref="Samples"/> (a file of
/// their sample ids, one per line, as <c>prh dataset build</c> writes), or raw samples to <see cref="Build"/>
/// them from on the silos.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.DatasetSource")]
public sealed record DatasetSource(
    [property: Id(0)] IReadOnlyDictionary<string, string>? Files,
    [property: Id(1)] DatasetBuild? Build = null,
    [property: Id(2)] string? Samples = null)
{
    public bool IsEmpty => Files is not { Count: > 0 } && Build is null;

    /// <summary>Equal by content (the map compared entry by entry).</summary>
    public bool Equals(DatasetSource? other) => other is not null && Contents.SameMap(Files, other.Files) && Build == other.Build && Samples == other.Samples;

    public override int GetHashCode() => HashCode.Combine(Files?.Count, Build, Samples);

    /// <summary>What the source is, for content keys: the files by name, the build and the ids file.</summary>
    public string Description => string.Join("\n",
        string.Join(",", (Files ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}")),
        Build?.ToString() ?? "", Samples ?? "");
}
