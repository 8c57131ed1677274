namespace Prh.Contracts.Models;

/// <summary>A model of a dataset with its stored features.</summary>
[GenerateSerializer, Immutable, Alias("prh.ImportedModel")]
public sealed record ImportedModel([property: Id(0)] string Id, [property: Id(1)] StoredFeatures Features);
