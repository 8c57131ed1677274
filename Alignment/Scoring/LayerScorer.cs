using System.Runtime.CompilerServices;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;

namespace Prh.Alignment.Scoring;

/// <summary>
/// Scores every layer pair of two sketched models with one metric: <c>scores[i, j] = metric(x_i, y_j)</c>.
/// Each pair reads only the sketches (ALGORITHMS.md): O(N k) or O(N k^2) for neighbour metrics, one
/// stacked product for the kernel metrics, O(N d^2) for svcca. Pairs run in parallel.
/// </summary>
public static class LayerScorer
{
    public static double[,] ScoreAll(ModelSketch x, ModelSketch y, MetricSpec metric)
    {
        metric.Validate(x, y);
        int lx = x.LayerCount, ly = y.LayerCount;
        switch (metric.Kind)
        {
            case MetricKind.Cka or MetricKind.UnbiasedCka:
            {
                var centring = metric.Unbiased ? Centring.Unbiased : Centring.Biased;
                return Cka.ScoreAll(x.Kernels(metric.Kernel, centring), y.Kernels(metric.Kernel, centring), x.Blas);
            }
            case MetricKind.Cknna:
            {
                int k = metric.TopK!.Value;
                return Pairs(lx, ly, (i, j) => Cknna.Score(x.Neighbours(i, k), y.Neighbours(j, k), k, metric.Unbiased,
                    CknnaSelf(x, i, k, metric.Unbiased), CknnaSelf(y, j, k, metric.Unbiased)));
            }
            case MetricKind.Svcca:
                return Pairs(lx, ly, (i, j) => Svcca.Score(x.Svcca(i, metric.CcaDim), y.Svcca(j, metric.CcaDim), x.Blas));
            default:
            {
                int columns = metric.Columns(x.SampleCount);
                Func<NeighbourLists, NeighbourLists, int, double> score = metric.Kind switch
                {
                    MetricKind.MutualKnn => MutualKnn.Score,
                    MetricKind.CycleKnn => CycleKnn.Score,
                    MetricKind.LcsKnn => LcsKnn.Score,
                    _ => EditDistanceKnn.Score,
                };
                return Pairs(lx, ly, (i, j) => score(x.Neighbours(i, columns), y.Neighbours(j, columns), columns));
            }
        }
    }

    /// <summary>One metric value for two single-layer inputs (the reference's metric functions).</summary>
    public static double ScoreOne(ModelSketch a, ModelSketch b, MetricSpec metric) => ScoreAll(a, b, metric)[0, 0];

    /// <summary>sim(K, K) of cknna, once per layer, k and variant.</summary>
    private static double CknnaSelf(ModelSketch model, int layer, int k, bool unbiased) =>
        model.Piece(("cknna-self", layer, k, unbiased), () =>
        {
            var lists = model.Neighbours(layer, k);
            return new StrongBox<double>(Cknna.Similarity(lists, lists, k, unbiased));
        }).Value;

    private static double[,] Pairs(int lx, int ly, Func<int, int, double> score)
    {
        var scores = new double[lx, ly];
        Parallel.For(0, lx * ly, ModelSketch.Parallelism, p => scores[p / ly, p % ly] = score(p / ly, p % ly));
        return scores;
    }
}
