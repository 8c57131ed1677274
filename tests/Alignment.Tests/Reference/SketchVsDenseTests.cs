using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.Reference;

/// <summary>
/// The sketch path against <see cref="DenseReference"/> on random inputs of many shapes: N from 4
/// to 300, D from 1 to 600, k up to and past N, constant and duplicated rows. Integer-valued inputs
/// make every inner product exact, so ties are real ties in both paths and the tie rule is tested.
/// </summary>
public sealed class SketchVsDenseTests
{
    public enum Data { Gaussian, Normalised, IntegersWithDuplicates }

    public static IEnumerable<object[]> Shapes() =>
    [
        [3, 2, Data.Gaussian], [4, 1, Data.Gaussian], [4, 3, Data.IntegersWithDuplicates], [5, 2, Data.Normalised],
        [9, 600, Data.Gaussian], [17, 5, Data.IntegersWithDuplicates], [33, 8, Data.Normalised],
        [64, 32, Data.IntegersWithDuplicates], [120, 3, Data.IntegersWithDuplicates], [150, 64, Data.Normalised],
        [300, 40, Data.Gaussian],
    ];

    private static (double[,] A, double[,] B) Inputs(int n, int d, Data data)
    {
        var random = new Random(n * 7919 + d * 31 + (int)data);
        double[,] Make(double[,]? shared)
        {
            var x = new double[n, d];
            for (int i = 0; i < n; i++)
                for (int t = 0; t < d; t++)
                    x[i, t] = data == Data.IntegersWithDuplicates
                        ? random.Next(-2, 3)
                        : (shared is null ? 0 : 0.7 * shared[i, t]) + random.NextDouble() * 2 - 1;
            if (data == Data.IntegersWithDuplicates && n >= 4)
                for (int t = 0; t < d; t++) { x[1, t] = x[0, t]; x[3, t] = 1; } // a duplicated row and a constant row
            if (data == Data.Normalised)
                for (int i = 0; i < n; i++)
                {
                    double norm = Math.Sqrt(Enumerable.Range(0, d).Sum(t => x[i, t] * x[i, t]));
                    for (int t = 0; t < d; t++) x[i, t] /= norm;
                }
            return x;
        }
        var a = Make(null);
        return (a, Make(a));
    }

    private static ModelSketch Sketch(double[,] x, string name)
    {
        int n = x.GetLength(0), d = x.GetLength(1);
        var data = new double[n * d];
        Buffer.BlockCopy(x, 0, data, 0, data.Length * sizeof(double));
        return new ModelSketch(new ModelFeatures(name, [new LayerFeatures(n, d, data)]));
    }

    private static double Engine(ModelSketch a, ModelSketch b, string metric, Dictionary<string, object?> kwargs) =>
        AlignmentScoring.ScoreOne(a, b, MetricSpec.Create(metric, kwargs));

    private static void Same(double expected, double actual, double tolerance, string what)
    {
        if (double.IsNaN(expected)) { Assert.True(double.IsNaN(actual), $"{what}: expected NaN, got {actual:R}"); return; }
        Assert.True(Math.Abs(expected - actual) <= tolerance * Math.Max(1, Math.Abs(expected)),
            $"{what}: dense {expected:R}, sketch {actual:R}");
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Neighbour_metrics_agree(int n, int d, Data data)
    {
        var (a, b) = Inputs(n, d, data);
        var sa = Sketch(a, "A");
        var sb = Sketch(b, "B");
        foreach (int k in new[] { 1, 2, 5, n - 1, n, n + 3 }.Where(k => k >= 1).Distinct())
        {
            var kw = new Dictionary<string, object?> { ["topk"] = (long)k };
            string at = $"N={n} D={d} {data} k={k}";
            Same(DenseReference.MutualKnn(a, b, k), Engine(sa, sb, "mutual_knn", kw), 1e-6, "mutual_knn " + at);
            Same(DenseReference.CycleKnn(a, b, k), Engine(sa, sb, "cycle_knn", kw), 1e-6, "cycle_knn " + at);
            Same(DenseReference.CycleKnn(b, a, k), Engine(sb, sa, "cycle_knn", kw), 1e-6, "cycle_knn swapped " + at);
            Same(DenseReference.LcsKnn(a, b, k), Engine(sa, sb, "lcs_knn", kw), 1e-6, "lcs_knn " + at);
            Same(DenseReference.EditDistanceKnn(a, b, k), Engine(sa, sb, "edit_distance_knn", kw), 1e-6, "edit_distance_knn " + at);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Kernel_metrics_agree(int n, int d, Data data)
    {
        var (a, b) = Inputs(n, d, data);
        var sa = Sketch(a, "A");
        var sb = Sketch(b, "B");
        foreach (bool rbf in new[] { false, true })
            foreach (bool unbiased in new[] { false, true })
            {
                var kw = new Dictionary<string, object?> { ["kernel_metric"] = rbf ? "rbf" : "ip", ["rbf_sigma"] = 0.8, ["unbiased"] = unbiased };
                string at = $"N={n} D={d} {data} rbf={rbf} unbiased={unbiased}";
                Same(DenseReference.Cka(a, b, rbf, 0.8, unbiased), Engine(sa, sb, "cka", kw), 1e-9, "cka " + at);
            }
    }

    /// <summary>N = 3: the unbiased HSIC divides by N (N - 3) = 0, and the reference's value is NaN.</summary>
    [Fact]
    public void Unbiased_metrics_are_NaN_where_the_reference_divides_by_zero()
    {
        var (a, b) = Inputs(3, 2, Data.Gaussian);
        var sa = Sketch(a, "A");
        var sb = Sketch(b, "B");
        Assert.True(double.IsNaN(DenseReference.Cka(a, b, rbf: false, 1, unbiased: true)));
        Assert.True(double.IsNaN(Engine(sa, sb, "unbiased_cka", [])));
        Assert.True(double.IsNaN(Engine(sa, sb, "cknna", new() { ["topk"] = 2L })));
        Assert.False(double.IsNaN(Engine(sa, sb, "cka", [])));
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Cknna_agrees_in_both_argument_orders(int n, int d, Data data)
    {
        var (a, b) = Inputs(n, d, data);
        var sa = Sketch(a, "A");
        var sb = Sketch(b, "B");
        foreach (int k in new[] { 2, 3, 10, n - 1, n }.Where(k => k >= 2 && k <= n).Distinct())
            foreach (bool unbiased in new[] { true, false })
            {
                var kw = new Dictionary<string, object?> { ["topk"] = (long)k, ["unbiased"] = unbiased };
                string at = $"N={n} D={d} {data} k={k} unbiased={unbiased}";
                Same(DenseReference.Cknna(a, b, k, unbiased), Engine(sa, sb, "cknna", kw), 1e-9, "cknna " + at);
                Same(DenseReference.Cknna(b, a, k, unbiased), Engine(sb, sa, "cknna", kw), 1e-9, "cknna swapped " + at);
            }
    }

    /// <summary>Integer inputs are rank-deficient by construction, where the top subspace is not unique.</summary>
    public static IEnumerable<object[]> FullRankShapes() => Shapes().Where(s => (Data)s[2] != Data.IntegersWithDuplicates);

    [Theory]
    [MemberData(nameof(FullRankShapes))]
    public void Svcca_agrees(int n, int d, Data data)
    {
        var (a, b) = Inputs(n, d, data);
        int dim = Math.Min(10, Math.Min(n, d));
        var kw = new Dictionary<string, object?> { ["cca_dim"] = (long)dim };
        Same(DenseReference.Svcca(a, b, dim), Engine(Sketch(a, "A"), Sketch(b, "B"), "svcca", kw), 1e-7, $"svcca N={n} D={d} {data}");
    }
}
