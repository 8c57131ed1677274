using Prh.Alignment.AllPairs;
using Prh.Alignment.Compute;
using Prh.Alignment.Features;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Tests.AllPairs;

/// <summary>
/// The tile engine against the per-pair path: dense overlap counts against one marker count per layer
/// pair, tiles of several models (and masks, and blocks against themselves) against compute_score pair
/// by pair, small memory budgets against the default, and the planner's and masks' bookkeeping.
/// </summary>
public sealed class TileTests
{
    private static ModelSketch Model(int seed, int n = 48, int layers = 3, int width = 20) =>
        new(FeaturePreparation.Prepare(SyntheticZoo.Model($"m{seed}", n, layers, width, seed)));

    private static NeighbourLists[] RandomLists(Random random, int n, int k, int layers) => Enumerable.Range(0, layers).Select(_ =>
    {
        // Integer similarities: ties are real ties, so the lower-index rule is exercised too.
        var gram = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) gram[i * n + j] = gram[j * n + i] = random.Next(0, 6);
        return NeighbourLists.FromGram(gram, n, k);
    }).ToArray();

    [Theory]
    [InlineData(50, 5, 7, 9)]
    [InlineData(130, 10, 20, 33)]
    [InlineData(64, 63, 3, 4)]
    [InlineData(40, 40, 2, 3)]
    [InlineData(300, 256, 2, 2)] // past the byte accumulators: the plain count
    public void Dense_overlap_counts_equal_the_plain_per_pair_count(int n, int k, int firstLayers, int secondLayers)
    {
        var random = new Random(n * 31 + k);
        var first = RandomLists(random, n, k, firstLayers);
        var second = RandomLists(random, n, k, secondLayers);
        int columns = NeighbourLists.ColumnsFor(n, k);
        // The whole rectangle, and two disjoint parts of it sharing first layers.
        var regions = new List<LayerRectangle[]>
        {
            new[] { new LayerRectangle(0, firstLayers, 0, secondLayers) },
            new[] { new LayerRectangle(0, firstLayers, 0, secondLayers / 2), new LayerRectangle(firstLayers / 2, firstLayers, secondLayers / 2, secondLayers) },
        };
        var marker = new int[n];
        foreach (var rectangles in regions)
        {
            var counts = new int[firstLayers * secondLayers];
            Array.Fill(counts, -1);
            NeighbourOverlaps.Count(first, second, columns, rectangles, counts);
            for (int a = 0; a < firstLayers; a++)
                for (int b = 0; b < secondLayers; b++)
                {
                    bool inside = rectangles.Any(r => a >= r.First0 && a < r.First1 && b >= r.Second0 && b < r.Second1);
                    long expected = inside ? MutualKnn.Overlap(first[a], second[b], columns, marker) : -1;
                    Assert.True(expected == counts[a * secondLayers + b], $"layers ({a}, {b}): expected {expected}, counted {counts[a * secondLayers + b]}");
                }
        }
    }

    public static IEnumerable<object[]> Metrics() =>
    [
        ["mutual_knn", 5], ["cycle_knn", 5], ["lcs_knn", 4], ["edit_distance_knn", 4], ["cka", 10], ["unbiased_cka", 10], ["cknna", 6], ["svcca", 10],
    ];

    private static MetricSpec Spec(string metric, int topk) => MetricSpec.ForComputeScore(metric, topk, ccaDim: 4);

    [Theory]
    [MemberData(nameof(Metrics))]
    public void A_tile_scores_every_masked_pair_as_compute_score_does(string metric, int topk)
    {
        var spec = Spec(metric, topk);
        var models = Enumerable.Range(0, 5).Select(s => Model(s + 1, layers: 2 + s % 3, width: 12 + 7 * s)).ToList();
        var all = new SketchBlock(models);
        var some = new SketchBlock(models.Take(3).ToList());
        var random = new Random(3);
        var masked = new PairMask(5, 3);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 3; y++) masked[x, y] = random.Next(2) == 1;
        var lower = new PairMask(5, 5);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y <= x; y++) lower[x, y] = true;
        foreach (var (first, second, mask) in new[] { (all, all, PairMask.All(5, 5)), (all, all, lower), (all, some, masked), (some, all, PairMask.All(3, 5)) })
        {
            var scores = TileScorer.Score(CpuTileBackend.Default, first, second, [new TileMetric(spec, mask)])[0];
            Assert.Equal(mask.Count, scores.Count);
            foreach (var pair in scores)
            {
                Assert.True(mask[pair.First, pair.Second]);
                var expected = AlignmentScoring.ComputeScore(first.Models[pair.First], second.Models[pair.Second], spec);
                AssertSame(expected, pair.Scores, $"{spec} pair ({pair.First}, {pair.Second})");
            }
        }
    }

    /// <summary>The same numbers up to the order of a product's sums (a block's product cuts its rows differently from a pair's).</summary>
    private static void AssertSame(LayerScores expected, LayerScores actual, string what)
    {
        Assert.Equal(expected.Scores.GetLength(0), actual.Scores.GetLength(0));
        Assert.Equal(expected.Scores.GetLength(1), actual.Scores.GetLength(1));
        for (int i = 0; i < expected.Scores.GetLength(0); i++)
            for (int j = 0; j < expected.Scores.GetLength(1); j++)
                Assert.True(Math.Abs(expected.Scores[i, j] - actual.Scores[i, j]) <= 1e-12 || (double.IsNaN(expected.Scores[i, j]) && double.IsNaN(actual.Scores[i, j])),
                    $"{what} layers ({i}, {j}): {expected.Scores[i, j]:R} alone, {actual.Scores[i, j]:R} in the tile");
        Assert.Equal(expected.BestIndices, actual.BestIndices);
    }

    [Fact]
    public void Several_metrics_in_one_tile_share_their_products_and_score_as_alone()
    {
        var models = Enumerable.Range(0, 4).Select(s => Model(s + 11)).ToList();
        var block = new SketchBlock(models);
        var specs = Metrics().Select(m => Spec((string)m[0], (int)m[1])).ToList();
        var together = TileScorer.Score(CpuTileBackend.Default, block, block, specs.Select(s => new TileMetric(s, PairMask.All(4, 4))).ToList());
        for (int m = 0; m < specs.Count; m++)
        {
            var alone = TileScorer.Score(CpuTileBackend.Default, block, block, [new TileMetric(specs[m], PairMask.All(4, 4))])[0];
            for (int p = 0; p < alone.Count; p++) Assert.Equal(alone[p].Scores.Scores, together[m][p].Scores.Scores);
        }
    }

    [Theory]
    [InlineData("cka")]
    [InlineData("mutual_knn")]
    [InlineData("cknna")]
    [InlineData("cycle_knn")]
    public void Small_memory_budgets_cut_more_tiles_and_change_no_result(string metric)
    {
        var spec = Spec(metric, 5);
        var models = Enumerable.Range(0, 6).Select(s => Model(s + 21, layers: 2 + s % 2)).ToList();
        var whole = AlignmentScoring.ComputeAlignment(models, models, spec, symmetric: true);
        long layerBytes = TilePlanner.LayerBytes(models[0].SampleCount, SketchRequest.For([spec], models[0].SampleCount));
        foreach (long budget in new[] { 2 * 2 * layerBytes, 2 * 5 * layerBytes })
        {
            var small = AlignmentScoring.ComputeAlignment(models, models, spec, symmetric: true, new CpuTileBackend(Blas.Default, budget));
            for (int i = 0; i < models.Count; i++)
                for (int j = 0; j < models.Count; j++)
                {
                    Assert.True(Math.Abs(whole.Scores[i, j] - small.Scores[i, j]) <= 1e-12, $"{metric} [{i}, {j}] with a {budget}-byte budget");
                    Assert.Equal(whole.Indices[i, j], small.Indices[i, j]);
                }
        }
    }

    [Fact]
    public void Rectangles_cover_a_mask_exactly()
    {
        var random = new Random(9);
        for (int trial = 0; trial < 50; trial++)
        {
            int f = random.Next(1, 9), s = random.Next(1, 9);
            var mask = new PairMask(f, s);
            for (int x = 0; x < f; x++)
                for (int y = 0; y < s; y++) mask[x, y] = random.Next(3) > 0;
            var covered = new int[f, s];
            foreach (var r in mask.Rectangles())
                for (int x = r.First0; x < r.First1; x++)
                    for (int y = r.Second0; y < r.Second1; y++) covered[x, y]++;
            for (int x = 0; x < f; x++)
                for (int y = 0; y < s; y++) Assert.Equal(mask[x, y] ? 1 : 0, covered[x, y]);
        }
        Assert.Single(PairMask.All(4, 7).Rectangles());
        var triangle = new PairMask(5, 5);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y <= x; y++) triangle[x, y] = true;
        Assert.True(triangle.IsTriangle);
        Assert.Equal(5, triangle.Rectangles().Count);
    }

    [Fact]
    public void A_plan_covers_every_needed_pair_once_in_blocks_that_fit_the_budget()
    {
        var random = new Random(4);
        var layers = Enumerable.Range(0, 17).Select(_ => random.Next(1, 30)).ToList();
        var needed = new PairMask(17, 17);
        for (int j = 0; j < 17; j++)
            for (int i = 0; i <= j; i++) needed[j, i] = random.Next(4) > 0;
        const long layerBytes = 1000, budget = 2 * 40 * layerBytes;
        var plans = TilePlanner.Plan(layers, layers, sameModels: true, [needed], layerBytes, budget, new HashSet<int> { 9 });
        var covered = new int[17, 17];
        foreach (var plan in plans)
        {
            foreach (var side in new[] { plan.Firsts, plan.Seconds })
            {
                Assert.True(side.Sum(m => layers[m]) * layerBytes <= budget / 2 || side.Count == 1, $"a block of {side.Sum(m => layers[m])} layers");
                Assert.True(side.All(m => m < 9) || side.All(m => m >= 9), "a block across the break at model 9");
            }
            foreach (var (f, s) in plan.Masks[0]!.Pairs()) covered[plan.Firsts[f], plan.Seconds[s]]++;
        }
        for (int x = 0; x < 17; x++)
            for (int y = 0; y < 17; y++) Assert.Equal(needed[x, y] ? 1 : 0, covered[x, y]);
    }

    [Fact]
    public void A_block_against_itself_gives_the_products_a_full_product_gives()
    {
        var models = Enumerable.Range(0, 3).Select(s => Model(s + 31, layers: 4)).ToList();
        var block = new SketchBlock(models);
        var backend = CpuTileBackend.Default;
        var uploaded = backend.Upload(block);
        int t = block.LayerCount;
        var symmetric = backend.KernelProducts(uploaded, uploaded, KernelFunction.InnerProduct, true, new TileRegion([new LayerRectangle(0, t, 0, t)], SameBlock: true));
        var full = backend.KernelProducts(uploaded, uploaded, KernelFunction.InnerProduct, true, new TileRegion([new LayerRectangle(0, t, 0, t)], SameBlock: false));
        for (int p = 0; p < t * t; p++)
        {
            Assert.Equal(full.Inner[p], symmetric.Inner[p], 1e-9);
            Assert.Equal(full.AlphaDots![p], symmetric.AlphaDots![p], 1e-12);
            Assert.Equal(full.ExcessDots![p], symmetric.ExcessDots![p], 1e-12);
        }
    }
}
