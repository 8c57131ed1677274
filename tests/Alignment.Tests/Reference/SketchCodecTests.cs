using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.Reference;

/// <summary>Stored sketch pieces decode to what was encoded, score the same, and refuse damaged bytes.</summary>
public sealed class SketchCodecTests
{
    private static ModelSketch Model(int seed) =>
        new(FeaturePreparation.Prepare(SyntheticZoo.Model($"m{seed}", 40, 3, 12, seed)));

    [Fact]
    public void Neighbour_lists_round_trip_and_score_the_same()
    {
        var a = Model(1);
        var b = Model(2);
        var decoded = SketchCodec.DecodeNeighbours(SketchCodec.Encode(a.AllNeighbours(10)));
        var seeded = Model(1);
        seeded.SeedNeighbours(decoded);
        Assert.True(seeded.HasNeighbours(10));
        foreach (string metric in new[] { "mutual_knn", "cycle_knn", "lcs_knn", "edit_distance_knn", "cknna" })
        {
            var spec = MetricSpec.ForComputeScore(metric, 10);
            Assert.Equal(AlignmentScoring.ComputeScore(a, b, spec).Scores, AlignmentScoring.ComputeScore(seeded, b, spec).Scores);
        }
    }

    [Theory]
    [InlineData("ip", false)]
    [InlineData("ip", true)]
    [InlineData("rbf", false)]
    [InlineData("rbf", true)]
    public void Centred_kernels_round_trip_and_score_the_same(string kernel, bool unbiased)
    {
        var a = Model(3);
        var b = Model(4);
        var spec = MetricSpec.Create("cka", new Dictionary<string, object?> { ["kernel_metric"] = kernel, ["rbf_sigma"] = 0.7, ["unbiased"] = unbiased });
        var original = a.Kernels(spec.Kernel);
        var decoded = SketchCodec.DecodeKernels(SketchCodec.Encode(original));
        Assert.Equal(spec.Kernel, decoded.Kernel);
        // Stored values carry 36 fraction bits: each within 2^-37 of the original, relatively.
        var before = original.Stack.ToArray();
        var after = decoded.Stack.ToArray();
        for (int p = 0; p < before.Length; p++)
            Assert.True(Math.Abs(before[p] - after[p]) <= Math.Abs(before[p]) * Math.Pow(2, -37) + 1e-15, $"packed value {p}: {before[p]:R} became {after[p]:R}");
        var seeded = Model(3);
        seeded.SeedKernels(decoded);
        Assert.True(seeded.HasKernels(spec.Kernel));
        var expected = AlignmentScoring.ComputeScore(a, b, spec).Scores;
        var actual = AlignmentScoring.ComputeScore(seeded, b, spec).Scores;
        for (int i = 0; i < expected.GetLength(0); i++)
            for (int j = 0; j < expected.GetLength(1); j++)
                Assert.True(Math.Abs(expected[i, j] - actual[i, j]) <= 1e-9, $"layer pair ({i}, {j}): {expected[i, j]:R} from built kernels, {actual[i, j]:R} from stored ones");
        // Decoding is exact: the same bytes again.
        Assert.Equal(SketchCodec.Encode(decoded), SketchCodec.Encode(original));
    }

    [Fact]
    public void Svcca_bases_round_trip_and_score_the_same()
    {
        var a = Model(7);
        var b = Model(8);
        var spec = MetricSpec.ForComputeScore("svcca", 10, ccaDim: 5);
        var seeded = Model(7);
        seeded.SeedSvcca(5, SketchCodec.DecodeSvcca(SketchCodec.Encode(a.AllSvcca(5))));
        Assert.True(seeded.HasSvcca(5));
        Assert.Equal(AlignmentScoring.ComputeScore(a, b, spec).Scores, AlignmentScoring.ComputeScore(seeded, b, spec).Scores);
    }

    [Fact]
    public void Damaged_bytes_are_refused()
    {
        byte[] lists = SketchCodec.Encode(Model(5).AllNeighbours(4));
        byte[] kernels = SketchCodec.Encode(Model(5).Kernels(KernelFunction.InnerProduct));
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeNeighbours(lists.AsSpan(0, lists.Length - 1)));
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeNeighbours([.. lists, 0]));
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeNeighbours(kernels)); // wrong kind
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeKernels(kernels.AsSpan(0, 20)));
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeKernels(new byte[3]));
        Assert.Throws<InvalidDataException>(() => SketchCodec.DecodeKernels(kernels.AsSpan(0, kernels.Length - 6)));
        Assert.Throws<ArgumentException>(() => Model(6).SeedNeighbours(SketchCodec.DecodeNeighbours(lists)[..1]));
    }
}
