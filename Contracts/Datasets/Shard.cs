using Prh.Contracts.Storage;

namespace Prh.Contracts.Datasets;

/// <summary>A shard of a dataset: samples [<see cref="FirstSample"/>, + <see cref="SampleCount"/>), their inputs stored as one safetensors blob (a tensor per input).</summary>
[GenerateSerializer, Immutable, Alias("prh.Shard")]
public sealed record Shard([property: Id(0)] BlobRef Inputs, [property: Id(1)] int FirstSample, [property: Id(2)] int SampleCount)
{
    /// <summary>The shard's grain: named by its dataset and its content.</summary>
    public string GrainKey(string dataset) => $"{dataset}/{Inputs.ToUri()}";

    /// <summary>The stored inputs a shard grain's key names.</summary>
    public static BlobRef InputsOf(string grainKey) =>
        BlobRef.TryParseUri(grainKey[(grainKey.IndexOf('/') + 1)..], out var blob) ? blob
            : throw new ArgumentException($"'{grainKey}' is not a shard grain key (dataset/blob:sha256:HEX:LENGTH)", nameof(grainKey));
}
