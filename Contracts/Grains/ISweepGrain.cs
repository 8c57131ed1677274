using Orleans.Concurrency;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>
/// One sweep (keyed by its id): imports the models, has each metric's aggregator score the pairs it
/// lacks, and reports progress. Submit returns at once; the work runs in the grain's background.
/// </summary>
[Alias("prh.ISweepGrain")]
public interface ISweepGrain : IGrainWithStringKey
{
    /// <summary>Starts the sweep (again: a finished sweep re-submitted with more models scores only the new pairs).</summary>
    [Alias("Submit")]
    Task<SweepStatus> SubmitAsync(SweepDefinition definition);

    [Alias("GetStatus")]
    Task<SweepStatus> GetStatusAsync();

    /// <summary>Each metric's matrix, in the definition's model order; only once completed.</summary>
    [Alias("GetResults")]
    Task<IReadOnlyList<MetricMatrix>> GetResultsAsync();

    /// <summary>One model pair's whole layer x layer matrix for a metric (name or key): compute_score(prep(first), prep(second)); only once completed.</summary>
    [Alias("GetPair")]
    Task<Aggregation.PairMatrix> GetPairAsync(string metric, string first, string second);

    /// <summary>The dataset's aggregator tells where the sweep's scoring stands (one-way: it never waits for the sweep).</summary>
    [Alias("Progressed"), OneWay]
    Task ProgressedAsync(Aggregation.AggregatorProgress progress);
}
