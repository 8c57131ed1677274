namespace Prh.Contracts.Models;

/// <summary>Where shards of an extraction ran: ONNX Runtime's execution provider on a silo.</summary>
[GenerateSerializer, Immutable, Alias("prh.ExtractionSite")]
public sealed record ExtractionSite([property: Id(0)] string Provider, [property: Id(1)] string Silo);
