using System.CommandLine;
using Prh.Alignment.Calibration;
using Prh.Alignment.Metrics;
using Prh.Contracts.Sweeps;

namespace Prh.Client.Commands;

/// <summary>
/// The permutation-calibration flags of <c>prh score</c> and <c>prh matrix</c> (CALIBRATION.md; the sweep spec's
/// <c>calibration: {permutations, alpha, seed, aggregate, fdr}</c> with the same defaults). <c>--calibrate K</c>
/// turns calibration on; every other flag here needs it and is refused, named, without it.
/// </summary>
internal sealed class CalibrateOptions
{
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

    public Option<double?> Fdr { get; } = new("--fdr") { Description = $"Benjamini-Hochberg false discovery rate q (default {CalibrationSettings.DefaultFdr})" };

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Calibrate, Alpha, Seed, Aggregate, Permutations, Fdr }) command.Options.Add(o);
    }

    /// <summary>
    /// The settings, or null without <c>--calibrate</c>. Refused, naming the flag: K &lt; 1, α or q outside (0, 1), an
    /// unknown aggregate, <c>--seed</c> with <c>--permutations</c>, and any of these flags without <c>--calibrate</c>.
    /// </summary>
    public CalibrationSettings? Read(ParseResult parse)
    {
        if (parse.GetValue(Calibrate) is not { } count)
        {
            foreach (Option o in new Option[] { Alpha, Seed, Aggregate, Permutations, Fdr })
                if (parse.GetResult(o) is { Implicit: false })
                    throw new AlignmentException(ErrorKind.ValueError, $"{o.Name} needs --calibrate K");
            return null;
        }
        string? file = parse.GetValue(Permutations);
        ulong? seed = parse.GetValue(Seed);
        if (file is not null && seed is not null)
            throw new AlignmentException(ErrorKind.ValueError, "--seed and --permutations exclude each other: recorded permutations take no seed");
        if (file is not null && !File.Exists(file)) throw new FileNotFoundException($"--permutations {file}: no such file");
        LayerAggregate aggregate;
        try
        {
            aggregate = LayerAggregate.Parse(parse.GetValue(Aggregate) ?? "max");
        }
        catch (AlignmentException e)
        {
            throw new AlignmentException(e.Kind, $"--aggregate: {e.Message}");
        }
        var settings = new CalibrationSettings(count, parse.GetValue(Alpha) ?? new CalibrationOptions().Alpha, file is null ? seed ?? 0 : null, file, aggregate,
            parse.GetValue(Fdr) ?? CalibrationSettings.DefaultFdr);
        settings.Validate(field => field switch
        {
            "permutations" => "--calibrate K",
            "permutations_file" => "--permutations",
            _ => $"--{field}",
        });
        return settings;
    }
}
