using Prh.Contracts.Models;
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
    /// <summary>Schedules the pairs compute_alignment(models, models) needs and does not have yet; returns at once.</summary>
    [Alias("Ensure")]
    Task Ensure(MetricConfig metric, IReadOnlyList<ModelEntry> models);

    /// <summary>True when every pair of <paramref name="models"/> is scored; a failed pair's error is thrown.</summary>
    [Alias("IsComplete")]
    Task<bool> IsComplete(IReadOnlyList<ModelEntry> models);

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
