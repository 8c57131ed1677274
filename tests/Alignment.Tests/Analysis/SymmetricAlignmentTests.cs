using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class SymmetricAlignmentTests
{
    private static readonly string[] s_models = ["a", "b", "c"];

    [Fact]
    public void Each_pair_takes_the_mean_of_its_two_entries_and_distance_is_one_minus_it()
    {
        double[][] scores = [[1, 0.2, 0.4], [0.6, 1, 0.5], [0.4, 0.7, 1]];
        var symmetric = SymmetricAlignment.Scores(s_models, scores);
        Assert.Equal(0.4, symmetric[0][1], 1e-15);
        Assert.Equal(0.4, symmetric[1][0], 1e-15);
        Assert.Equal(0.6, symmetric[1][2], 1e-15);
        Assert.True(double.IsNaN(symmetric[2][2]));
        var distances = SymmetricAlignment.Distances(symmetric);
        Assert.Equal(0, distances[0][0]);
        Assert.Equal(0.6, distances[0][1], 1e-15);
        Assert.Equal(0.6, distances[0][2], 1e-15);
        Assert.Equal(0, distances[2][2]);
    }

    [Fact]
    public void A_missing_score_or_a_ragged_matrix_is_refused_by_model()
    {
        var e = Assert.Throws<AlignmentException>(() => SymmetricAlignment.Scores(s_models, [[1, 0.2, 0.4], [0.6, 1, double.NaN], [0.4, 0.7, 1]]));
        Assert.Contains("(b, c)", e.Message);
        Assert.Contains("(b)", Assert.Throws<AlignmentException>(() => SymmetricAlignment.Scores(s_models, [[1, 0, 0], [0, 1], [0, 0, 1]])).Message);
    }
}
