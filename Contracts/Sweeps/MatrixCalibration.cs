using Prh.Alignment.Calibration;

namespace Prh.Contracts.Sweeps;

/// <summary>
/// A calibrated models x models matrix (entries as in <see cref="MetricMatrix"/>): every entry's statistics
/// (<see cref="Tests"/>: observed, calibrated, p, τ, null mean and std, z), and across the grid Benjamini-Hochberg at
/// the settings' q (<see cref="Significant"/>, p ≤ <see cref="BhCutoff"/>) and the max-statistic family-wise
/// threshold at α (<see cref="FamilySignificant"/>: observed &gt; <see cref="FwerThreshold"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.MatrixCalibration")]
public sealed record MatrixCalibration(
    [property: Id(0)] CalibrationSettings Settings,
    [property: Id(1)] Calibration[,] Tests,
    [property: Id(2)] double BhCutoff,
    [property: Id(3)] bool[,] Significant,
    [property: Id(4)] double FwerThreshold,
    [property: Id(5)] bool[,] FamilySignificant)
{
    /// <summary>The grid's tests (<see cref="MultipleTesting.Grid"/>) of <paramref name="tests"/> and its entries' null scores, row-major.</summary>
    public static MatrixCalibration Of(CalibrationSettings settings, Calibration[,] tests, IReadOnlyList<double[]> nullScores)
    {
        var grid = MultipleTesting.Grid(tests, nullScores, settings.Alpha, settings.Fdr);
        return new MatrixCalibration(settings, tests, grid.BhCutoff, grid.Significant, grid.FwerThreshold, grid.FamilySignificant);
    }
}
