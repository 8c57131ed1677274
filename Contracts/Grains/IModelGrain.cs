using Prh.Contracts.Datasets;
using Prh.Contracts.Models;
using Prh.Contracts.Sweeps;

namespace Prh.Contracts.Grains;

/// <summary>A model of a dataset (key "dataset/model"): its features, imported into the store once per content, or extracted over the dataset's shards.</summary>
[Alias("prh.IModelGrain")]
public interface IModelGrain : IGrainWithStringKey
{
    /// <summary>Reads and checks a feature file (or stored blob) on the silo, stores it by content, returns what it holds.</summary>
    [Alias("Import")]
    Task<StoredFeatures> ImportAsync(string featuresPath);

    /// <summary>
    /// Starts extracting features with an ONNX model over the dataset's inputs cut in shards of
    /// <paramref name="shardSize"/>, unless the same extraction is already under way; returns at once
    /// a ticket naming it (equal requests get equal tickets, so sweeps sharing a model share its extraction).
    /// Follow it with <see cref="GetExtractionAsync"/>.
    /// </summary>
    [Alias("StartExtraction")]
    Task<string> StartExtractionAsync(OnnxSource source, DatasetSource data, int shardSize);

    /// <summary>The extraction's progress, or null when this activation has none by that ticket (the silo it ran on went away).</summary>
    [Alias("GetExtraction")]
    Task<ExtractionProgress?> GetExtractionAsync(string ticket);
}
