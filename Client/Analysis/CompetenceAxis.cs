using ScottPlot;

namespace Prh.Client.Analysis;

/// <summary>
/// The colour scale of competence for the map's colour bar: ScottPlot draws a colour bar only for a
/// source with a colour axis, and markers have none, so this maps the range onto Viridis itself.
/// </summary>
internal sealed class CompetenceAxis(IReadOnlyList<double> competence) : IHasColorAxis
{
    private readonly double _min = competence.Min(), _max = competence.Max();

    public IColormap Colormap { get; } = new ScottPlot.Colormaps.Viridis();

    public ScottPlot.Range GetRange() => new(_min, _max);

    /// <summary>The colour of a competence score; the middle of the scale when every model scores alike.</summary>
    public Color Color(double value) => Colormap.GetColor(_max > _min ? (value - _min) / (_max - _min) : 0.5);
}
