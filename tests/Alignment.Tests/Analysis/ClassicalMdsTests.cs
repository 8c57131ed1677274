using Prh.Alignment.Analysis;
using Prh.Alignment.Metrics;

namespace Prh.Alignment.Tests.Analysis;

public sealed class ClassicalMdsTests
{
    private static double[][] Distances(double[][] points) =>
        points.Select(p => points.Select(q => Math.Sqrt(p.Zip(q, (a, b) => (a - b) * (a - b)).Sum())).ToArray()).ToArray();

    [Fact]
    public void Collinear_points_come_back_centred_on_the_first_axis()
    {
        // Points 0, 1, 3 on a line: centred -4/3, -1/3, 5/3; the largest is positive by the sign convention.
        var embedding = ClassicalMds.Embed(Distances([[0.0], [1.0], [3.0]]), 2);
        Assert.Equal(-4.0 / 3, embedding.Coordinates[0][0], 1e-12);
        Assert.Equal(-1.0 / 3, embedding.Coordinates[1][0], 1e-12);
        Assert.Equal(5.0 / 3, embedding.Coordinates[2][0], 1e-12);
        Assert.All(embedding.Coordinates, c => Assert.Equal(0, c[1]));
        // The first eigenvalue is the sum of squared centred coordinates: 16/9 + 1/9 + 25/9.
        Assert.Equal(42.0 / 9, embedding.Eigenvalues[0], 1e-12);
    }

    [Fact]
    public void A_planar_configuration_is_reproduced_up_to_rotation()
    {
        var random = new Random(11);
        var points = Enumerable.Range(0, 9).Select(_ => new[] { random.NextDouble() * 4, random.NextDouble() }).ToArray();
        var given = Distances(points);
        var embedding = ClassicalMds.Embed(given, 2);
        var found = Distances(embedding.Coordinates);
        for (int i = 0; i < points.Length; i++)
            for (int j = 0; j < points.Length; j++) Assert.Equal(given[i][j], found[i][j], 1e-10);
        // Centred, and the axes ordered by spread: the long side of the configuration is the first axis.
        Assert.Equal(0, embedding.Coordinates.Average(c => c[0]), 1e-12);
        Assert.Equal(0, embedding.Coordinates.Average(c => c[1]), 1e-12);
        Assert.True(embedding.Eigenvalues[0] > embedding.Eigenvalues[1]);
        Assert.Equal(0, embedding.Eigenvalues[2], 1e-10);
    }

    [Fact]
    public void On_each_axis_the_item_farthest_from_the_centre_is_positive_and_runs_agree_bit_for_bit()
    {
        var random = new Random(2);
        var points = Enumerable.Range(0, 8).Select(_ => new[] { random.NextDouble(), random.NextDouble(), random.NextDouble() }).ToArray();
        var first = ClassicalMds.Embed(Distances(points), 2);
        for (int axis = 0; axis < 2; axis++)
        {
            var column = first.Coordinates.Select(c => c[axis]).ToArray();
            Assert.True(column.MaxBy(Math.Abs) > 0);
        }
        var second = ClassicalMds.Embed(Distances(points), 2);
        Assert.Equal(first.Coordinates, second.Coordinates);
        // Mirrored points give the same distances, so the same map.
        var mirrored = ClassicalMds.Embed(Distances(points.Select(p => p.Select(v => -v).ToArray()).ToArray()), 2);
        for (int i = 0; i < points.Length; i++)
            for (int axis = 0; axis < 2; axis++) Assert.Equal(first.Coordinates[i][axis], mirrored.Coordinates[i][axis], 1e-12);
    }

    [Fact]
    public void Asymmetric_or_non_finite_distances_are_refused()
    {
        Assert.Throws<AlignmentException>(() => ClassicalMds.Embed([[0, 1, 2], [1.5, 0, 1], [2, 1, 0]], 2));
        Assert.Throws<AlignmentException>(() => ClassicalMds.Embed([[0, double.NaN], [double.NaN, 0]], 1));
        Assert.Throws<AlignmentException>(() => ClassicalMds.Embed([[1, 1], [1, 1]], 1));
        Assert.Throws<AlignmentException>(() => ClassicalMds.Embed([[0, 1], [1, 0]], 3));
    }
}
