using Prh.Alignment.Calibration;

namespace Prh.Contracts.Serialization;

/// <summary>The engine's <see cref="Calibration"/> (one calibrated score's statistics) on the wire.</summary>
[GenerateSerializer, Immutable, Alias("prh.Calibration")]
public readonly record struct CalibrationSurrogate(
    [property: Id(0)] double Observed,
    [property: Id(1)] double Calibrated,
    [property: Id(2)] double PValue,
    [property: Id(3)] double Tau,
    [property: Id(4)] int Exceedances,
    [property: Id(5)] int PermutationCount,
    [property: Id(6)] double NullMean,
    [property: Id(7)] double NullStd,
    [property: Id(8)] double Z);

[RegisterConverter]
public sealed class CalibrationConverter : IConverter<Calibration, CalibrationSurrogate>
{
    public Calibration ConvertFromSurrogate(in CalibrationSurrogate s) =>
        new(s.Observed, s.Calibrated, s.PValue, s.Tau, s.Exceedances, s.PermutationCount, s.NullMean, s.NullStd, s.Z);

    public CalibrationSurrogate ConvertToSurrogate(in Calibration c) =>
        new(c.Observed, c.Calibrated, c.PValue, c.Tau, c.Exceedances, c.PermutationCount, c.NullMean, c.NullStd, c.Z);
}
