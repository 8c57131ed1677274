namespace Prh.Contracts.Sweeps;

/// <summary>One model of a sweep: a safe id and either a feature file or an ONNX model to extract from.</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelDefinition")]
public sealed record ModelDefinition([property: Id(0)] string Id, [property: Id(1)] string? Features, [property: Id(2)] OnnxSource? Onnx = null);
