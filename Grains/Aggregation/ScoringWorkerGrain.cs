using Orleans.Concurrency;
using Orleans.Placement;
using Prh.Alignment.Scoring;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Scores model pairs on the silo it runs on. Workers are keyed by pair and placed at random, so an
/// aggregator's pairs spread over every silo; reentrant, since the numeric work runs on the thread pool.
/// </summary>
[RandomPlacement, Reentrant]
public sealed class ScoringWorkerGrain(LocalFeatureCache cache) : Grain, IScoringWorkerGrain
{
    public async Task<PairScore> Score(MetricConfig metric, FeatureInfo first, FeatureInfo second)
    {
        var spec = metric.ToSpec();
        var x = await cache.Sketch(first, metric);
        var y = await cache.Sketch(second, metric);
        // Seconds of numeric work: off the grain scheduler, on the thread pool.
        var result = await Task.Run(() => AlignmentScoring.ComputeScore(x, y, spec));
        return new PairScore(result.BestScore, result.BestIndices is { } b ? [b.X, b.Y] : null,
            (long)x.LayerCount * y.LayerCount);
    }
}
