using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Contracts.Serialization;

/// <summary>
/// The engine's <see cref="MetricSpec"/> on the wire (the engine has no Orleans in it): a metric crosses grain
/// calls as the one type the engine scores with, parsed once where it entered (the spec file, the console).
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.MetricSpec")]
public readonly record struct MetricSpecSurrogate(
    [property: Id(0)] string Name,
    [property: Id(1)] int? TopK,
    [property: Id(2)] bool AllColumns,
    [property: Id(3)] bool Rbf,
    [property: Id(4)] double Sigma,
    [property: Id(5)] bool Unbiased,
    [property: Id(6)] int CcaDim);

[RegisterConverter]
public sealed class MetricSpecConverter : IConverter<MetricSpec, MetricSpecSurrogate>
{
    public MetricSpec ConvertFromSurrogate(in MetricSpecSurrogate s) => new()
    {
        Kind = MetricNames.Parse(s.Name),
        TopK = s.TopK,
        AllColumns = s.AllColumns,
        Kernel = s.Rbf ? KernelFunction.Rbf(s.Sigma) : KernelFunction.InnerProduct,
        Unbiased = s.Unbiased,
        CcaDim = s.CcaDim,
    };

    public MetricSpecSurrogate ConvertToSurrogate(in MetricSpec m) => new(m.Name, m.TopK, m.AllColumns, m.Kernel.IsRbf, m.Kernel.Sigma, m.Unbiased, m.CcaDim);
}
