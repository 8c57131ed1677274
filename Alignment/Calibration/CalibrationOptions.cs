using Prh.Alignment.Metrics;

namespace Prh.Alignment.Calibration;

/// <summary>
/// What a calibrated pass computes besides the observed scores, with Aristotelian's defaults (CALIBRATION.md §4):
/// α = 0.05, smax = 1 (null: the unnormalised relu(s - τ)), the layer-max aggregate. Every aggregate listed
/// gets K null values per model pair from the same draws; <see cref="PerCell"/> adds the per-layer-pair
/// calibration (each cell against its own null), kept as running counts, never as K matrices.
/// </summary>
public sealed record CalibrationOptions
{
    public double Alpha { get; init; } = 0.05;
    public double? Smax { get; init; } = 1.0;
    public IReadOnlyList<LayerAggregate> Aggregates { get; init; } = [LayerAggregate.Max];
    public bool PerCell { get; init; }

    /// <summary>
    /// These options with each aggregate's transpose added where it differs: what the mirrored half of a symmetric matrix
    /// reads (entry [j, i] takes its mirror's matrices transposed; <see cref="LayerAggregate.Transposed"/>).
    /// </summary>
    public CalibrationOptions WithTransposes() => this with { Aggregates = Aggregates.Concat(Aggregates.Select(a => a.Transposed)).Distinct().ToList() };

    /// <summary>Refuses α outside (0, 1), smax ≤ 0 and an empty aggregate list, naming the field.</summary>
    public void Validate()
    {
        if (!(Alpha > 0 && Alpha < 1)) throw new AlignmentException(ErrorKind.ValueError, $"alpha must lie strictly inside (0, 1), got {Alpha}");
        if (Smax is { } smax && !(smax > 0)) throw new AlignmentException(ErrorKind.ValueError, $"smax must be positive or None, got {smax}");
        if (Aggregates.Count == 0) throw new AlignmentException(ErrorKind.ValueError, "aggregates: at least one layer aggregate is needed");
    }
}
