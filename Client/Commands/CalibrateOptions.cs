using System.CommandLine;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;

namespace Prh.Client.Commands;

/// <summary>
/// The permutation-calibration flags of <c>prh score</c> and <c>prh matrix</c> (CALIBRATION.md; the sweep spec's
/// <c>calibration: {permutations, alpha, seed, aggregate, fdr}</c> with the same defaults). <c>--calibrate K</c>
/// turns calibration on; every other flag here needs it and is refused, named, without it.
/// </summary>
internal sealed class CalibrateOptions
{
    public const double DefaultFdr = 0.05;

    public Option<int?> Calibrate { get; } = new("--calibrate")
    {
        Description = "Calibrate by K permutations of the samples (Aristotelian's recipe: τ, add-one p, calibrated score; 200 is the paper's K)",
    };

    public Option<double?> Alpha { get; } = new("--alpha") { Description = "Calibration level α: τ is the rank ⌈(1-α)(K+1)⌉ value (default 0.05)" };
    public Option<ulong?> Seed { get; } = new("--seed") { Description = "Seed of the drawn permutations (default 0)" };

    public Option<string> Aggregate { get; } = new("--aggregate")
    {
        Description = "Layer aggregate the null is taken of: max (default), mean, row_max_mean, col_max_mean, topk_mean:K, hungarian",
    };

    public Option<string> Permutations { get; } = new("--permutations")
    {
        Description = "A (K', N) integer .npy of recorded permutations (its first K rows are used) instead of seeded ones",
    };

    public Option<double?> Fdr { get; } = new("--fdr") { Description = $"Benjamini-Hochberg false discovery rate q (default {DefaultFdr})" };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Calibrate, Alpha, Seed, Aggregate, Permutations, Fdr }) command.Options.Add(o);
    }

    /// <summary>
    /// The request, or null without <c>--calibrate</c>. Refused, naming the flag: K &lt; 1, α or q outside (0, 1), an
    /// unknown aggregate, <c>--seed</c> with <c>--permutations</c>, and any of these flags without <c>--calibrate</c>.
    /// </summary>
    public CalibrationRequest? Read(ParseResult parse)
    {
        if (parse.GetValue(Calibrate) is not { } count)
        {
            foreach (Option o in new Option[] { Alpha, Seed, Aggregate, Permutations, Fdr })
                if (parse.GetResult(o) is { Implicit: false })
                    throw new AlignmentException(ErrorKind.ValueError, $"{o.Name} needs --calibrate K");
            return null;
        }
        if (count < 1) throw new AlignmentException(ErrorKind.ValueError, $"--calibrate K: the number of permutations must be at least 1, got {count}");
        double alpha = parse.GetValue(Alpha) ?? new CalibrationOptions().Alpha;
        if (!(alpha > 0 && alpha < 1)) throw new AlignmentException(ErrorKind.ValueError, $"--alpha must lie strictly inside (0, 1), got {alpha}");
        double fdr = parse.GetValue(Fdr) ?? DefaultFdr;
        if (!(fdr > 0 && fdr < 1)) throw new AlignmentException(ErrorKind.ValueError, $"--fdr (the false discovery rate q) must lie strictly inside (0, 1), got {fdr}");
        string? file = parse.GetValue(Permutations);
        ulong? seed = parse.GetValue(Seed);
        if (file is not null && seed is not null)
            throw new AlignmentException(ErrorKind.ValueError, "--seed and --permutations exclude each other: recorded permutations take no seed");
        LayerAggregate aggregate;
        try
        {
            aggregate = ParseAggregate(parse.GetValue(Aggregate) ?? "max");
        }
        catch (AlignmentException e)
        {
            throw new AlignmentException(e.Kind, $"--aggregate: {e.Message}");
        }
        return new CalibrationRequest(count, alpha, file is null ? seed ?? 0 : null, file, aggregate, fdr);
    }

    /// <summary>The engine's aggregate names, and row_max_mean / col_max_mean for rowmax_mean / colmax_mean.</summary>
    private static LayerAggregate ParseAggregate(string name) => LayerAggregate.Parse(name switch
    {
        "row_max_mean" => "rowmax_mean",
        "col_max_mean" => "colmax_mean",
        "topk_mean" => throw new AlignmentException(ErrorKind.ValueError, "topk_mean needs its k: topk_mean:K"),
        _ => name,
    });
}
