namespace Prh.Contracts.Sweeps;

/// <summary>
/// One model of a sweep: a safe id and either a feature file or an ONNX model to extract from; <see cref="Samples"/>
/// names a file of the feature file's sample ids (one per line), checked against the dataset's.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.ModelDefinition")]
public sealed record ModelDefinition(
    [property: Id(0)] string Id,
    [property: Id(1)] string? Features,
    [property: Id(2)] OnnxSource? Onnx = null,
    [property: Id(3)] string? Samples = null);
