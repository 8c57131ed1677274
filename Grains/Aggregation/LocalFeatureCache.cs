using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Sketches;
using Prh.Contracts.Models;
using Prh.Grains.Storage;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Per silo: stored feature blobs copied to local files (so the engine can stream their layers) and
/// the prepared sketches of the most recently used models, keyed by feature content. Any silo can
/// score any pair; a model's sketch is built once per silo while it stays in the cache.
/// </summary>
public sealed class LocalFeatureCache(IActivationStore store)
{
    private const int SketchCapacity = 16;
    private readonly string _folder = Directory.CreateTempSubdirectory("prh-features-").FullName;
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Key, Lazy<Task<ModelSketch>> Sketch)> _recent = new();

    public Task<ModelSketch> Sketch(FeatureInfo features, double quantile = FeaturePreparation.DefaultQuantile)
    {
        string key = $"{features.Blob.Sha256}/{quantile:R}";
        lock (_lock)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (node.Value.Key != key) continue;
                _recent.Remove(node);
                _recent.AddFirst(node);
                return node.Value.Sketch.Value;
            }
            var sketch = new Lazy<Task<ModelSketch>>(() => Build(features, quantile));
            _recent.AddFirst((key, sketch));
            if (_recent.Count > SketchCapacity) _recent.RemoveLast();
            return sketch.Value;
        }
    }

    private async Task<ModelSketch> Build(FeatureInfo features, double quantile)
    {
        string path = Path.Combine(_folder, $"{features.Blob.Sha256}.{features.Format}");
        if (!File.Exists(path))
        {
            byte[] content = await store.GetAsync(features.Blob); // verified against its hash
            string temp = path + $".{Guid.NewGuid():N}.tmp";
            await File.WriteAllBytesAsync(temp, content);
            File.Move(temp, path, overwrite: true);
        }
        return new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Open(path), quantile));
    }
}
