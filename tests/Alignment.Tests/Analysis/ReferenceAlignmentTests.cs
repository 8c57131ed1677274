using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class ReferenceAlignmentTests
{
    // Pair (i, j) scores (i + 1) (j + 1) / 100.
    private static readonly double[][] s_symmetric =
        Enumerable.Range(0, 5).Select(i => Enumerable.Range(0, 5).Select(j => i == j ? double.NaN : (i + 1) * (j + 1) / 100.0).ToArray()).ToArray();

    [Fact]
    public void One_reference_gives_every_other_model_its_alignment_with_it()
    {
        var points = ReferenceAlignment.Against(s_symmetric, [2]);
        Assert.Equal([0, 1, 3, 4], points.Models);
        Assert.Equal([0.03, 0.06, 0.12, 0.15], points.Alignment);
    }

    [Fact]
    public void A_group_gives_the_models_outside_it_their_mean_alignment_with_its_members()
    {
        var points = ReferenceAlignment.Against(s_symmetric, [4, 0]);
        Assert.Equal([1, 2, 3], points.Models);
        // Model 1 (score factor 2): (2 * 5 + 2 * 1) / 2 / 100.
        Assert.Equal(0.06, points.Alignment[0], 1e-15);
        Assert.Equal(0.09, points.Alignment[1], 1e-15);
        Assert.Equal(0.12, points.Alignment[2], 1e-15);
    }

    [Fact]
    public void An_empty_repeated_or_out_of_range_group_is_refused()
    {
        Assert.Throws<AlignmentException>(() => ReferenceAlignment.Against(s_symmetric, []));
        Assert.Throws<AlignmentException>(() => ReferenceAlignment.Against(s_symmetric, [1, 1]));
        Assert.Throws<AlignmentException>(() => ReferenceAlignment.Against(s_symmetric, [5]));
    }
}
