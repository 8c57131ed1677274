using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Contracts.Storage;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// How scores are calibrated (CALIBRATION.md): K = <see cref="Permutations"/> draws of the samples at level
/// <see cref="Alpha"/>, seeded (<see cref="Seed"/>) or the first K rows of a recorded (K', N) file
/// (<see cref="PermutationsFile"/>: a path, or a stored blob's URI once a sweep has imported it), the null of
/// <see cref="Aggregate"/> over the layer matrix, and Benjamini-Hochberg at q = <see cref="Fdr"/> across the model
/// grid. The sweep spec's <c>calibration:</c> block and the console's <c>--calibrate</c> flags both make one.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.CalibrationSettings")]
public sealed record CalibrationSettings(
    [property: Id(0)] int Permutations,
    [property: Id(1)] double Alpha,
    [property: Id(2)] ulong? Seed,
    [property: Id(3)] string? PermutationsFile,
    [property: Id(4)] LayerAggregate Aggregate,
    [property: Id(5)] double Fdr)
{
    /// <summary>The paper's K.</summary>
    public const int DefaultPermutations = 200;

    public const double DefaultFdr = 0.05;

    /// <summary>
    /// Refuses K &lt; 1, α or q outside (0, 1) and a seed given with recorded permutations, naming the field as
    /// <paramref name="field"/> spells it ("permutations", "permutations_file", "alpha", "seed", "fdr").
    /// </summary>
    public void Validate(Func<string, string> field)
    {
        if (Permutations < 1)
            throw new AlignmentException(ErrorKind.ValueError, $"{field("permutations")}: the number of permutations K must be at least 1, got {Permutations}");
        if (!(Alpha > 0 && Alpha < 1)) throw new AlignmentException(ErrorKind.ValueError, $"{field("alpha")} must lie strictly inside (0, 1), got {Alpha}");
        if (!(Fdr > 0 && Fdr < 1))
            throw new AlignmentException(ErrorKind.ValueError, $"{field("fdr")} (the false discovery rate q) must lie strictly inside (0, 1), got {Fdr}");
        if ((Seed is null) == (PermutationsFile is null))
            throw new AlignmentException(ErrorKind.ValueError, Seed is null
                ? $"{field("seed")} or {field("permutations_file")}: seeded or recorded permutations are needed"
                : $"{field("seed")} and {field("permutations_file")} exclude each other: recorded permutations take no seed");
    }

    /// <summary>The pass's options: α and the one aggregate, with per-layer-pair counts when <paramref name="perCell"/>.</summary>
    public CalibrationOptions Options(bool perCell = false) => new() { Alpha = Alpha, Aggregates = [Aggregate], PerCell = perCell };

    /// <summary>
    /// What identifies the stored nulls these settings produce: the aggregate and the permutations (α and q only
    /// read them). A recorded file must be a stored blob by then (<see cref="BlobRef.ToUri"/>).
    /// </summary>
    public string NullKey => $"{Aggregate.Name}/K{Permutations}/" + (Seed is { } seed ? $"seed{seed}"
        : BlobRef.TryParseUri(PermutationsFile, out var blob) ? $"sha256:{blob.Sha256}"
        : throw new InvalidOperationException($"recorded permutations '{PermutationsFile}' are not stored yet"));

    /// <summary>
    /// The K permutations of <paramref name="sampleCount"/> samples: seeded, or the first K rows of the recorded file read
    /// from <paramref name="bytes"/> (its name <paramref name="file"/> in messages). A file that is not a (K', N) integer
    /// array of permutations, permutes another N, or holds fewer than K rows is refused naming the file and the field.
    /// </summary>
    public SamplePermutations Draw(int sampleCount, string field, string? file = null, byte[]? bytes = null)
    {
        if (Seed is { } seed) return SamplePermutations.Seeded(seed, Permutations, sampleCount);
        file ??= PermutationsFile!;
        try
        {
            var recorded = bytes is null ? SamplePermutations.Load(file) : SamplePermutations.Load(file, bytes);
            recorded.CheckSampleCount(sampleCount);
            if (recorded.Count < Permutations)
                throw new AlignmentException(ErrorKind.ValueError, $"{file}: holds {recorded.Count} permutations; the calibration asks for {Permutations}");
            return recorded.Take(Permutations);
        }
        catch (AlignmentException e)
        {
            string message = e.Message.StartsWith(file, StringComparison.Ordinal) ? e.Message : $"{file}: {e.Message}";
            throw new AlignmentException(e.Kind, $"{field} {message}");
        }
    }

    /// <summary>One line saying what is drawn: "K = 200 seeded permutations (seed 0), α = 0.05, aggregate max".</summary>
    public string Describe() =>
        $"K = {Permutations} {(PermutationsFile is { } f ? $"recorded permutations ({f})" : $"seeded permutations (seed {Seed})")}, " +
        $"α = {Alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}, aggregate {Aggregate}";
}
