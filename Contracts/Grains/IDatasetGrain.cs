using Prh.Contracts.Datasets;

namespace Prh.Contracts.Grains;

/// <summary>
/// A dataset (key: its name): the samples every model of it is run on. It holds their number N, which every
/// model's features must share, and its inputs for ONNX models, cut into shards (<see cref="IShardGrain"/>).
/// </summary>
[Alias("prh.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Registers a model's N; a different N than the dataset's is refused with the model named.</summary>
    [Alias("Register")]
    Task RegisterAsync(string modelId, int sampleCount);

    [Alias("GetSampleCount")]
    Task<int?> GetSampleCountAsync();

    /// <summary>
    /// The dataset's inputs (read from files, or built from raw samples) cut into shards of
    /// <paramref name="shardSize"/> samples, each stored once, in sample order. Cut on the first request for
    /// these sources and shard size, and found again after; a source file that changed is read again. The
    /// inputs' sample ids (a samples file, or a build's ids) are checked against the dataset's. Reading or building
    /// the inputs runs in the background and a call waits for it a few seconds: null while it is still running, so
    /// call again (a build decodes every image, which can take longer than a grain call may).
    /// </summary>
    [Alias("GetShards")]
    Task<IReadOnlyList<Shard>?> GetShardsAsync(DatasetSource source, int shardSize);

    /// <summary>
    /// Checks a samples file (one id per line; a path or stored blob) of <paramref name="who"/> against the
    /// dataset's sample ids, which the first list given sets; a different set or order is refused with its first difference.
    /// </summary>
    [Alias("CheckSamples")]
    Task CheckSamplesAsync(string who, string samplesFile);
}
