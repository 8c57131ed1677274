using Prh.Alignment.IO;
using Prh.Contracts.Storage;

namespace Prh.Contracts.Models;

/// <summary>
/// A model's features as stored: the file's blob and format, N, each layer's
/// width, and the clamp threshold of compute_score's preparation (|x| at the 0.95 quantile over the whole
/// model), found while every value was checked on import (null where it was not, as for extracted features).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.StoredFeatures")]
public sealed record StoredFeatures(
    [property: Id(0)] BlobRef Blob,
    [property: Id(1)] FeatureFormat Format,
    [property: Id(2)] int SampleCount,
    [property: Id(3)] int[] LayerWidths,
    [property: Id(4)] double? Threshold = null)
{
    /// <summary>Equal by content, the widths element by element.</summary>
    public bool Equals(StoredFeatures? other) => other is not null && Blob == other.Blob && Format == other.Format
        && SampleCount == other.SampleCount && LayerWidths.AsSpan().SequenceEqual(other.LayerWidths) && Threshold == other.Threshold;

    public override int GetHashCode() => HashCode.Combine(Blob, Format, SampleCount, LayerWidths.Length);
}
