using Prh.Contracts.Storage;

namespace Prh.Contracts.Sweeps;

/// <summary>A model's stored features found missing or corrupt during the sweep, and the source they were recomputed from.</summary>
[GenerateSerializer, Immutable, Alias("prh.Recovery")]
public sealed record Recovery([property: Id(0)] string Model, [property: Id(1)] BlobRef Lost, [property: Id(2)] string Source);
