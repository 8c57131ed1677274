using Orleans.Concurrency;
using Orleans.Placement;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Scores model pairs on the silo it runs on. Workers are keyed by pair and placed at random, so an
/// aggregator's pairs spread over every silo; reentrant, since the numeric work runs on the thread pool.
/// </summary>
[RandomPlacement, Reentrant]
public sealed class ScoringWorkerGrain(LocalFeatureCache cache, ILocalSiloDetails silo) : Grain, IScoringWorkerGrain
{
    public async Task<PairScore> Score(MetricConfig metric, FeatureInfo first, FeatureInfo second)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.score.pair");
        span?.SetTag("prh.metric", metric.Key);
        span?.SetTag("prh.backend", "cpu");
        span?.SetTag("prh.silo", silo.SiloAddress.ToString());
        span?.SetTag("prh.first", first.Blob.Sha256);
        span?.SetTag("prh.second", second.Blob.Sha256);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            var spec = metric.ToSpec();
            var x = await cache.Sketch(first, metric);
            var y = await cache.Sketch(second, metric);
            // Seconds of numeric work: off the grain scheduler, on the thread pool.
            LayerScores result;
            try
            {
                result = await Task.Run(() => AlignmentScoring.ComputeScore(x, y, spec));
            }
            catch (AlignmentException e)
            {
                throw new ArgumentException(e.Message); // the input's fault, so never retried; the message travels, the type stays here
            }
            long layerPairs = (long)x.LayerCount * y.LayerCount;
            span?.SetTag("prh.layer_pairs", layerPairs);
            PrhTelemetry.LayerPairsScored.Add(layerPairs, new KeyValuePair<string, object?>("prh.metric", metric.Key));
            PrhTelemetry.PairsScored.Add(1, new KeyValuePair<string, object?>("prh.metric", metric.Key));
            PrhTelemetry.TileSeconds.Record(watch.Elapsed.TotalSeconds);
            return new PairScore(result.BestScore, result.BestIndices is { } b ? [b.X, b.Y] : null, layerPairs);
        }
        catch (Exception e)
        {
            span.Fail(e);
            throw;
        }
    }
}
