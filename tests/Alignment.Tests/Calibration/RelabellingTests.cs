using Prh.Alignment.AllPairs;
using Prh.Alignment.Calibration;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.Calibration;

/// <summary>
/// The plain path against the relabelled one: a null draw computed from the sketches relabelled (lists renamed,
/// kernels gathered, SVCCA bases permuted) equals the metric recomputed from scratch on the permuted features,
/// for every metric, on small random data, in a tile of several models against itself (the permuted cover of a
/// triangle of model pairs) and against another block.
/// </summary>
public sealed class RelabellingTests
{
    public static IEnumerable<object[]> Metrics() =>
    [
        ["mutual_knn@5"], ["cycle_knn@5"], ["lcs_knn@4"], ["edit_distance_knn@4"], ["cka"], ["cka-unbiased"], ["cka-rbf-s0.8"],
        ["cknna@6"], ["cknna@6-biased"], ["svcca-d4"],
    ];

    private const int N = 40;

    private static ModelFeatures Features(int seed, int layers, int width) => FeaturePreparation.Prepare(SyntheticZoo.Model($"m{seed}", N, layers, width, seed));

    /// <summary>Row r of the permuted model is original row π[r], in every layer.</summary>
    private static ModelFeatures Permuted(ModelFeatures features, SamplePermutation permutation) =>
        new(features.Source + "[π]", features.Layers.Select(l =>
        {
            var data = new double[l.SampleCount * l.Width];
            var values = l.Values(new double[l.SampleCount * l.Width]);
            for (int r = 0; r < l.SampleCount; r++) values.Slice(permutation.Forward[r] * l.Width, l.Width).CopyTo(data.AsSpan(r * l.Width, l.Width));
            return new LayerFeatures(l.SampleCount, l.Width, data);
        }).ToArray());

    [Theory]
    [MemberData(nameof(Metrics))]
    public void A_relabelled_draw_equals_the_metric_on_permuted_features(string key) => Compare(key, 5, m => 2 + m % 3);

    /// <summary>Enough layers (17 models, 102 layers) that the permuted cover of a triangle splits into rectangles and leaves.</summary>
    [Theory]
    [InlineData("cka")]
    [InlineData("cka-unbiased")]
    public void A_relabelled_kernel_draw_over_a_split_cover_equals_the_metric_on_permuted_features(string key) => Compare(key, 17, _ => 6);

    private static void Compare(string key, int count, Func<int, int> layers)
    {
        var spec = MetricSpec.Parse(key);
        var features = Enumerable.Range(0, count).Select(m => Features(m + 1, layers(m), 9 + 5 * (m % 5))).ToList();
        var models = features.Select(f => new ModelSketch(f)).ToList();
        var permutations = SamplePermutations.Seeded(7, 3, N);
        var backend = CpuTileBackend.Default;
        var block = new SketchBlock(models);
        var other = new SketchBlock(models.Take(2).ToList());
        var lower = new PairMask(count, count);
        var upper = new PairMask(count, count);
        for (int x = 0; x < count; x++)
            for (int y = 0; y < count; y++) (lower[x, y], upper[x, y]) = (x >= y, x <= y);
        foreach (var (first, second, mask) in new[] { (block, block, lower), (block, block, upper), (block, other, PairMask.All(count, 2)) })
        {
            TileMetric[] metrics = [new(spec, mask)];
            var x1 = backend.Upload(first);
            var y1 = ReferenceEquals(first, second) ? x1 : backend.Upload(second);
            for (int k = 0; k < permutations.Count; k++)
            {
                var relabelled = TileScorer.LayerValues(backend, x1, y1, metrics, permutations[k])[0];
                // The plain path: new sketches of the permuted features, scored without any permutation.
                var permutedSecond = new SketchBlock(second.Models.Select(m => new ModelSketch(Permuted(m.Features, permutations[k]))).ToList());
                var plain = TileScorer.LayerValues(backend, backend.Upload(first), backend.Upload(permutedSecond), metrics, null)[0];
                foreach (var (mx, my) in mask.Pairs())
                {
                    var (a0, a1) = first.Layers(mx, mx + 1);
                    var (b0, b1) = second.Layers(my, my + 1);
                    for (int a = a0; a < a1; a++)
                        for (int b = b0; b < b1; b++)
                        {
                            int p = a * second.LayerCount + b;
                            Assert.False(double.IsNaN(plain[p]));
                            Assert.True(Math.Abs(plain[p] - relabelled[p]) <= 1e-9 * Math.Max(1, Math.Abs(plain[p])),
                                $"{key} draw {k} layers ({a}, {b}): relabelled {relabelled[p]}, recomputed {plain[p]}");
                        }
                }
            }
        }
    }

    [Fact]
    public void Seeded_permutations_are_deterministic_permutations_drawn_one_by_one()
    {
        var a = SamplePermutations.Seeded(42, 20, 64);
        var b = SamplePermutations.Seeded(42, 20, 64);
        var c = SamplePermutations.Seeded(43, 20, 64);
        var distinct = new HashSet<string>();
        for (int k = 0; k < 20; k++)
        {
            Assert.Equal(a[k].Forward.ToArray(), b[k].Forward.ToArray());
            Assert.Equal(a[k].Forward.ToArray(), SamplePermutations.SeededDraw(42, k, 64));
            Assert.Equal(Enumerable.Range(0, 64), a[k].Forward.ToArray().Order());
            for (int r = 0; r < 64; r++) Assert.Equal(r, a[k].Inverse[a[k].Forward[r]]);
            distinct.Add(string.Join(",", a[k].Forward.ToArray()));
            Assert.NotEqual(a[k].Forward.ToArray(), c[k].Forward.ToArray());
        }
        Assert.Equal(20, distinct.Count);
        // Uniform in each position: over many draws, each value lands in position 0 about equally often.
        var hits = new int[8];
        var many = SamplePermutations.Seeded(1, 8000, 8);
        for (int k = 0; k < many.Count; k++) hits[many[k].Forward[0]]++;
        Assert.All(hits, h => Assert.InRange(h, 850, 1150));
    }

    [Fact]
    public void Bad_input_is_refused_naming_the_field()
    {
        Assert.Contains("K", Refused(() => SamplePermutations.Seeded(1, 0, 10)));
        Assert.Contains("alpha", Refused(() => new CalibrationOptions { Alpha = 1 }.Validate()));
        Assert.Contains("alpha", Refused(() => new CalibrationOptions { Alpha = 0 }.Validate()));
        Assert.Contains("alpha", Refused(() => PermutationTest.Tau([0.1, 0.2], 0.3, -0.5)));
        Assert.Contains("K", Refused(() => PermutationTest.Tau([], 0.3, 0.05)));
        Assert.Contains("smax", Refused(() => new CalibrationOptions { Smax = 0 }.Validate()));
        Assert.Contains("permutations: 5 values are not 2 x 3", Refused(() => SamplePermutations.FromRows([0, 1, 2, 0, 1], 2, 3)));
        Assert.Contains("permutations: K (rows) must be at least 1", Refused(() => SamplePermutations.FromRows([], 0, 3)));
        Assert.Contains("permutations row 1: value 3 at position 2 is outside [0, 3)", Refused(() => SamplePermutations.FromRows([0, 1, 2, 0, 1, 3], 2, 3)));
        Assert.Contains("permutations row 0: value 1 appears twice", Refused(() => SamplePermutations.FromRows([1, 1, 2], 1, 3)));
        Assert.Contains("permutations row 0: value -4", Refused(() => SamplePermutations.FromRows([0, -4, 2], 1, 3)));
        Assert.Contains("permutations: they permute 3 samples, the models have 4", Refused(() => SamplePermutations.FromRows([0, 1, 2], 1, 3).CheckSampleCount(4)));
        Assert.Contains("q (the false discovery rate)", Refused(() => MultipleTesting.BenjaminiHochberg([0.1], 0)));
        Assert.Contains("aggregate 'median'", Refused(() => LayerAggregate.Parse("median")));
        Assert.Contains("topk_mean:K", Refused(() => LayerAggregate.Parse("topk_mean:x")));

        string folder = Directory.CreateTempSubdirectory("prh-perms-").FullName;
        try
        {
            string floats = Path.Combine(folder, "floats.npy"), cube = Path.Combine(folder, "cube.npy");
            NpyFile.Write(floats, [1, 3], [0, 1, 2]);
            NpyFile.Write(cube, [1, 1, 3], [0, 1, 2], TensorDType.Int64);
            Assert.Contains("permutations must be integers", Refused(() => SamplePermutations.Load(floats)));
            Assert.Contains("permutations must be a (K, N) array", Refused(() => SamplePermutations.Load(cube)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Refused(Action action) => Assert.Throws<AlignmentException>(action).Message;

    [Fact]
    public void Fewer_than_one_over_alpha_minus_one_permutations_always_give_zero()
    {
        var model = new ModelSketch(Features(3, 2, 12));
        var spec = MetricSpec.Parse("cka");
        var options = new CalibrationOptions();
        // Identical inputs: the observed score is above every null value, yet with K = 18 < 1/0.05 - 1 it is τ itself.
        var tooFew = CalibratedScoring.ComputeScore(model, model, spec, SamplePermutations.Seeded(5, 18, N), options).Calibrate(0, options);
        Assert.Equal(0, tooFew.Exceedances);
        Assert.Equal(tooFew.Observed, tooFew.Tau);
        Assert.Equal(0, tooFew.Calibrated);
        var enough = CalibratedScoring.ComputeScore(model, model, spec, SamplePermutations.Seeded(5, 19, N), options).Calibrate(0, options);
        Assert.True(enough.Calibrated > 0.9, $"K = 19: calibrated {enough.Calibrated}");
        Assert.Equal(1.0 / 20, enough.PValue);
    }

    [Fact]
    public void Aggregates_equal_their_definitions_and_the_matching_is_the_best_one()
    {
        var random = new Random(11);
        var scratch = new AggregateScratch();
        foreach (var (rows, columns) in new[] { (1, 1), (3, 3), (2, 5), (5, 2), (4, 6), (6, 6) })
            for (int trial = 0; trial < 20; trial++)
            {
                // Few distinct values: ties between matchings and entries are common.
                var s = Enumerable.Range(0, rows * columns).Select(_ => random.Next(0, 5) / 4.0).ToArray();
                double[,] m = new double[rows, columns];
                for (int i = 0; i < s.Length; i++) m[i / columns, i % columns] = s[i];
                Assert.Equal(s.Max(), LayerAggregate.Max.Apply(s, rows, columns, scratch));
                Assert.Equal(s.Sum() / s.Length, LayerAggregate.Mean.Apply(s, rows, columns, scratch), 1e-15);
                Assert.Equal(Enumerable.Range(0, rows).Average(i => Enumerable.Range(0, columns).Max(j => m[i, j])), LayerAggregate.RowMaxMean.Apply(s, rows, columns, scratch), 1e-15);
                Assert.Equal(Enumerable.Range(0, columns).Average(j => Enumerable.Range(0, rows).Max(i => m[i, j])), LayerAggregate.ColMaxMean.Apply(s, rows, columns, scratch), 1e-15);
                Assert.Equal(s.OrderDescending().Take(3).Average(), LayerAggregate.TopKMean(3).Apply(s, rows, columns, scratch), 1e-15);
                Assert.Equal(BestMatching(m) / Math.Min(rows, columns), LayerAggregate.Hungarian.Apply(s, rows, columns, scratch), 1e-12);
                Assert.Equal(LayerAggregate.RowMaxMean.Apply(s, rows, columns, scratch),
                    LayerAggregate.RowMaxMean.Transposed.Apply(Transpose(m), columns, rows, scratch), 1e-15);
            }
        Assert.True(double.IsNaN(LayerAggregate.Hungarian.Apply([0.5, double.NaN], 1, 2, scratch)));
        Assert.True(double.IsNaN(LayerAggregate.Max.Apply([0.5, double.NaN], 1, 2, scratch)));
    }

    /// <summary>The plain matching: every injective assignment of the smaller side, tried.</summary>
    private static double BestMatching(double[,] m)
    {
        int rows = m.GetLength(0), columns = m.GetLength(1);
        if (rows > columns) return BestMatching(To2D(Transpose(m), columns, rows));
        double best = double.NegativeInfinity;
        void Search(int i, bool[] used, double sum)
        {
            if (i == rows) { best = Math.Max(best, sum); return; }
            for (int j = 0; j < columns; j++)
            {
                if (used[j]) continue;
                used[j] = true;
                Search(i + 1, used, sum + m[i, j]);
                used[j] = false;
            }
        }
        Search(0, new bool[columns], 0);
        return best;
    }

    private static double[] Transpose(double[,] m)
    {
        int rows = m.GetLength(0), columns = m.GetLength(1);
        var t = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) t[j * rows + i] = m[i, j];
        return t;
    }

    private static double[,] To2D(double[] s, int rows, int columns)
    {
        var m = new double[rows, columns];
        for (int i = 0; i < s.Length; i++) m[i / columns, i % columns] = s[i];
        return m;
    }

    [Fact]
    public void The_family_wise_threshold_rejects_strictly_above_it()
    {
        double[] maxima = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9];
        double threshold = MultipleTesting.MaxStatisticThreshold(maxima, 0.05); // rank ⌈0.95 · 19⌉ = 19: the largest
        Assert.Equal(1.9, threshold);
        Assert.False(MultipleTesting.RejectFamilyWise(1.9, threshold));
        Assert.True(MultipleTesting.RejectFamilyWise(1.95, threshold));
        Assert.Equal(1.0 / 20, MultipleTesting.FamilyPValue(maxima, 1.95));
        Assert.Equal(2.0 / 20, MultipleTesting.FamilyPValue(maxima, 1.9));
        Assert.Equal([0.3, 0.5], MultipleTesting.FamilyMaxima([[0.1, 0.5], [0.3, 0.2]]));
    }
}
