using Prh.Alignment.Metrics;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>
/// The all-pairs matrices of one dataset (key: the dataset's name), every metric of every sweep on it.
/// Pairs are kept by metric and by the content of the two models' features, so a pair is scored once
/// however many sweeps, ids or orders ask for it. The work is planned as tiles (blocks of models against
/// blocks) and run by a <see cref="ITileWorkerGrain"/> on every silo at once; adding models schedules
/// only their sketches and their row of tiles.
/// </summary>
[Alias("prh.IAggregatorGrain")]
public interface IAggregatorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Schedules what compute_alignment(models, models) needs for each metric and does not have yet;
    /// returns at once. A pair that failed stays failed (its error is what the progress reports) unless
    /// <paramref name="retryFailed"/>. The sweep <paramref name="follower"/> is told the work's progress
    /// (<see cref="ISweepGrain.ProgressedAsync"/>) as tiles are recorded, until it ends. With <paramref name="calibration"/>
    /// (its permutations seeded or a stored blob) every pair also gets its K null values, from the same K permutations.
    /// </summary>
    [Alias("EnsureAsync")]
    Task EnsureAsync(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration, bool retryFailed, string? follower);

    /// <summary>Where the metrics' pairs of <paramref name="models"/> stand (planned again, and followed, if this activation does not know the work).</summary>
    [Alias("GetProgressAsync")]
    Task<AggregatorProgress> GetProgressAsync(IReadOnlyList<MetricSpec> metrics, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration, string? follower);

    /// <summary>The feature blobs have been recomputed into the store: the work waiting for them may go on.</summary>
    [Alias("RecoveredAsync")]
    Task RecoveredAsync(IReadOnlyList<BlobRef> features);

    /// <summary>One metric's models x models matrix, with <paramref name="calibration"/> calibrated; every pair must be scored (and calibrated).</summary>
    [Alias("GetMatrixAsync")]
    Task<MetricMatrix> GetMatrixAsync(MetricSpec metric, IReadOnlyList<ImportedModel> models, CalibrationSettings? calibration);

    /// <summary>compute_score(prep(first), prep(second))'s whole layer x layer matrix, read from the store.</summary>
    [Alias("GetPairAsync")]
    Task<PairMatrix> GetPairAsync(MetricSpec metric, ImportedModel first, ImportedModel second);

    /// <summary>What this dataset's aggregator has computed since it was created: tiles, layer pairs, model sketches.</summary>
    [Alias("GetCountersAsync")]
    Task<AggregatorCounters> GetCountersAsync();

    /// <summary>A worker's report that one of this aggregator's jobs has ended.</summary>
    [Alias("JobEndedAsync")]
    Task JobEndedAsync(JobOutcome outcome);
}
