using Prh.Alignment.Metrics;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Aggregation;

/// <summary>
/// Where an aggregator's work for one set of models and metrics stands: <see cref="Complete"/> when every
/// pair is scored and stored; the tiles and layer pairs of that work done so far, and the model sketches;
/// <see cref="Outage"/> says why it waits on the store; <see cref="Lost"/> names feature blobs found
/// missing or corrupt, whose work waits until they are imported again; <see cref="Failure"/> is the first
/// failed pair's error (the sweep fails with it); <see cref="LayerPairsScored"/> counts every layer pair the
/// aggregator has scored for any work.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.AggregatorProgress")]
public sealed record AggregatorProgress(
    [property: Id(0)] bool Complete,
    [property: Id(1)] string? Outage,
    [property: Id(2)] IReadOnlyList<BlobRef> Lost,
    [property: Id(3)] int TilesDone,
    [property: Id(4)] int TileCount,
    [property: Id(5)] long LayerPairsDone,
    [property: Id(6)] long LayerPairCount,
    [property: Id(7)] int SketchesDone,
    [property: Id(8)] int SketchCount,
    [property: Id(9)] string? Failure,
    [property: Id(10)] long LayerPairsScored,
    [property: Id(11)] string Work)
{
    /// <summary>
    /// The name of the work of these metrics over these models, calibrated or not (their keys, the calibration's nulls and
    /// the feature hashes), which progress reports carry.
    /// </summary>
    public static string WorkOf(IEnumerable<MetricSpec> metrics, IEnumerable<ImportedModel> models, CalibrationSettings? calibration) =>
        ContentKey.Of(metrics.Select(m => m.Key).Concat(calibration is null ? [] : [$"calibrated {calibration.NullKey}"]).Concat(models.Select(m => m.Features.Blob.Sha256)));
}
