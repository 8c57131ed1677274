namespace Prh.Contracts.Sweeps;

/// <summary>A model the sweep left out, and why (its file, extraction or N was refused).</summary>
[GenerateSerializer, Immutable, Alias("prh.ModelError")]
public sealed record ModelError([property: Id(0)] string Model, [property: Id(1)] string Message);
