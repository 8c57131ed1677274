using Prh.Alignment.IO;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Grains.Storage;

namespace Prh.Grains.Models;

[GenerateSerializer, Alias("prh.ModelState")]
public sealed class ModelState
{
    [Id(0)] public FeatureInfo? Features { get; set; }
    [Id(1)] public string? Source { get; set; }
}

/// <summary>
/// A model of a dataset: imports its feature file into the store (by content, so an unchanged file is
/// stored once), after checking every value the engine will read.
/// </summary>
public sealed class ModelGrain(
    [PersistentState("model", "prh")] IPersistentState<ModelState> state,
    IActivationStore store) : Grain, IModelGrain
{
    public async Task<FeatureInfo> Import(string featuresPath)
    {
        var (info, content) = await Task.Run(() => Read(featuresPath));
        var blob = await store.PutAsync(content);
        var features = info with { Blob = blob };
        if (state.State.Features != features || state.State.Source != featuresPath)
        {
            state.State.Features = features;
            state.State.Source = featuresPath;
            await state.WriteStateAsync();
        }
        return features;
    }

    /// <summary>Checks the file (header, size, every value for NaN and Inf) and reads its bytes.</summary>
    private static (FeatureInfo Info, byte[] Content) Read(string path)
    {
        try
        {
            var features = FeatureFile.Open(path);
            var scratch = new double[features.MaxLayerValues];
            foreach (var layer in features.Layers) layer.Values(scratch);
            string format = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
            var info = new FeatureInfo(new(string.Empty, 0), format, features.SampleCount, features.Layers.Select(l => l.Width).ToArray());
            return (info, File.ReadAllBytes(path));
        }
        catch (TensorFileException e)
        {
            // Orleans carries the message to the caller; the exception type stays on the silo.
            throw new ArgumentException(e.Message);
        }
    }
}
