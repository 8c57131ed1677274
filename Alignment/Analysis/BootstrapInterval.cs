namespace Prh.Alignment.Analysis;

/// <summary>
/// A statistic with its percentile bootstrap confidence interval. <see cref="Used"/> counts the
/// resamples whose statistic was defined (finite); the bounds are NaN when none was.
/// </summary>
public sealed record BootstrapInterval(double Estimate, double Lower, double Upper, double Level, int Resamples, int Used);
