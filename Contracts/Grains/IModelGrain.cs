using Prh.Contracts.Models;

namespace Prh.Contracts.Grains;

/// <summary>A model of a dataset (key "dataset/model"): its features, imported into the store once per content.</summary>
[Alias("prh.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Reads and checks a feature file on the silo, stores it by content, returns what it holds.</summary>
    [Alias("Import")]
    Task<StoredFeatures> Import(string featuresPath);

    /// <summary>
    /// Starts extracting features with an ONNX model over the dataset's inputs (input name to file), in
    /// shards, unless the same extraction is already under way; returns at once a ticket naming it
    /// (equal requests get equal tickets, so sweeps sharing a model share its extraction). Poll
    /// <see cref="GetExtraction"/> with it.
    /// </summary>
    [Alias("StartExtraction")]
    Task<string> StartExtraction(Sweeps.OnnxSource source, IReadOnlyDictionary<string, string> datasetInputs, int shardSize);

    /// <summary>The extraction's progress, or null when this activation has none by that ticket (the silo it ran on went away).</summary>
    [Alias("GetExtraction")]
    Task<ExtractionProgress?> GetExtraction(string ticket);
}

/// <summary>A dataset (key: its name): N, which every model's features must share.</summary>
[Alias("prh.IDatasetGrain")]
public interface IDatasetGrain : IGrainWithStringKey
{
    /// <summary>Registers a model's N; a different N than the dataset's is refused with the model named.</summary>
    [Alias("Register")]
    Task Register(string modelId, int sampleCount);

    [Alias("GetSampleCount")]
    Task<int?> GetSampleCount();
}
