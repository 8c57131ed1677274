using Prh.Alignment.Sketches;
using Prh.Contracts.Models;

namespace Prh.Contracts.Aggregation;

/// <summary>The sketch pieces one model's stored sketch must hold; every Gram-derived piece is built in one pass.</summary>
[GenerateSerializer, Immutable, Alias("prh.SketchJob")]
public sealed record SketchJob([property: Id(0)] StoredFeatures Features, [property: Id(1)] SketchRequest Request);
