using Prh.Contracts.Aggregation;

namespace Prh.Contracts.Grains;

/// <summary>
/// The aggregators' hands on one silo (key: the silo's address; placed on that silo): runs sketch and
/// tile jobs one after the other in the background, with the silo's cores, its block cache and its
/// memory budget, and reports each to the aggregator that sent it.
/// </summary>
[Alias("prh.ITileWorkerGrain")]
public interface ITileWorkerGrain : IGrainWithStringKey
{
    /// <summary>Queues a job and returns at once; the job's end is reported with <see cref="IAggregatorGrain.JobEndedAsync"/>.</summary>
    [Alias("StartAsync")]
    Task StartAsync(WorkerJob job);

    /// <summary>The ids of the jobs queued or running here (a job missing from a live worker was lost with its silo).</summary>
    [Alias("GetJobsAsync")]
    Task<IReadOnlyList<string>> GetJobsAsync();
}
