using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>
/// The all-pairs matrix of one dataset and metric configuration (key "dataset/metric-key"). Pairs
/// are stored by the content of the two models' features, so a pair is scored once however many
/// sweeps, ids or orders ask for it; adding a model schedules only its new pairs.
/// </summary>
[Alias("prh.IAggregatorGrain")]
public interface IAggregatorGrain : IGrainWithStringKey
{
    /// <summary>
    /// Schedules the pairs compute_alignment(models, models) needs and does not have yet; returns at once.
    /// A pair that failed stays failed (its error is what GetProgress throws) unless <paramref name="retryFailed"/>.
    /// </summary>
    [Alias("Ensure")]
    Task Ensure(MetricConfig metric, IReadOnlyList<ModelEntry> models, bool retryFailed);

    /// <summary>Where the pairs of <paramref name="models"/> stand; a failed pair's error is thrown.</summary>
    [Alias("GetProgress")]
    Task<AggregatorProgress> GetProgress(IReadOnlyList<ModelEntry> models);

    /// <summary>The feature blobs have been recomputed into the store: their lost pairs may be scheduled again.</summary>
    [Alias("Recovered")]
    Task Recovered(IReadOnlyList<BlobRef> features);

    [Alias("GetMatrix")]
    Task<MetricMatrix> GetMatrix(IReadOnlyList<ModelEntry> models);

    /// <summary>Layer pairs scored by this aggregator since it was created (each model pair counts L_x x L_y).</summary>
    [Alias("GetLayerPairsScored")]
    Task<long> GetLayerPairsScored();
}

/// <summary>Scores model pairs on whichever silo it is placed on; sketches are cached per silo by feature content.</summary>
[Alias("prh.IScoringWorkerGrain")]
public interface IScoringWorkerGrain : IGrainWithIntegerKey
{
    /// <summary>compute_score(prep(first), prep(second)) for one model pair.</summary>
    [Alias("Score")]
    Task<PairScore> Score(MetricConfig metric, FeatureInfo first, FeatureInfo second);
}

/// <summary>
/// One stored sketch piece (key: its store name, by feature content, preparation and piece): the one
/// activation in the cluster builds it if the store lacks it, so concurrent workers never build it twice.
/// </summary>
[Alias("prh.ISketchPieceGrain")]
public interface ISketchPieceGrain : IGrainWithStringKey
{
    /// <summary>The stored piece <paramref name="metric"/> reads from the model's sketch, built and stored first if needed.</summary>
    [Alias("Ensure")]
    Task<Storage.BlobRef> Ensure(FeatureInfo features, MetricConfig metric);
}

/// <summary>
/// An aggregator's pairs for one set of models: <see cref="Complete"/> when all are scored and stored;
/// <see cref="Outage"/> says why scoring waits on the store; <see cref="Lost"/> names feature blobs that
/// were missing or corrupt, whose pairs wait until their models are imported again.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.AggregatorProgress")]
public sealed record AggregatorProgress(
    [property: Id(0)] bool Complete,
    [property: Id(1)] string? Outage,
    [property: Id(2)] IReadOnlyList<BlobRef> Lost);
