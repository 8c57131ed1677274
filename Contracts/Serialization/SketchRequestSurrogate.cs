using Prh.Alignment.Sketches;

namespace Prh.Contracts.Serialization;

/// <summary>The engine's <see cref="SketchRequest"/> on the wire: the sketch pieces a job builds or a tile reads.</summary>
[GenerateSerializer, Immutable, Alias("prh.SketchRequest")]
public readonly record struct SketchRequestSurrogate(
    [property: Id(0)] int NeighbourColumns,
    [property: Id(1)] bool[] RbfKernels,
    [property: Id(2)] double[] Sigmas,
    [property: Id(3)] int[] SvccaDimensions);

[RegisterConverter]
public sealed class SketchRequestConverter : IConverter<SketchRequest, SketchRequestSurrogate>
{
    public SketchRequest ConvertFromSurrogate(in SketchRequestSurrogate s)
    {
        var sigmas = s.Sigmas;
        return new(s.NeighbourColumns, s.RbfKernels.Select((rbf, i) => rbf ? KernelFunction.Rbf(sigmas[i]) : KernelFunction.InnerProduct).ToList(), s.SvccaDimensions);
    }

    public SketchRequestSurrogate ConvertToSurrogate(in SketchRequest r) =>
        new(r.NeighbourColumns, r.Kernels.Select(k => k.IsRbf).ToArray(), r.Kernels.Select(k => k.Sigma).ToArray(), r.SvccaDimensions.ToArray());
}
