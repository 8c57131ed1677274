using Prh.Contracts.Storage;

namespace Prh.Contracts.Models;

/// <summary>A model's features as stored: the file's blob and format ("npy" or "safetensors"), N, and each layer's width.</summary>
[GenerateSerializer, Immutable, Alias("prh.FeatureInfo")]
public sealed record FeatureInfo(
    [property: Id(0)] BlobRef Blob,
    [property: Id(1)] string Format,
    [property: Id(2)] int SampleCount,
    [property: Id(3)] int[] LayerWidths);

/// <summary>A model of a dataset with its stored features.</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelEntry")]
public sealed record ModelEntry([property: Id(0)] string Id, [property: Id(1)] FeatureInfo Features);
