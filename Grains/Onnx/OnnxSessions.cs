using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Extraction;
using Prh.Grains.Storage;

namespace Prh.Grains.Onnx;

/// <summary>
/// Per silo: one ONNX Runtime session per model, selection (layers, pooling, mask) and preprocessing model, created on first use and
/// reused by every shard; runs a shard's extraction on the thread pool and counts the shards it ran.
/// </summary>
public sealed class OnnxSessions(IBlobStore store, ILogger<OnnxSessions> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<Task<(FeatureExtractor Extractor, SemaphoreSlim Gate)>>> _sessions = new();
    private long _shardsExtracted;

    /// <summary>Shards this silo has run through a model (cached outputs are not counted).</summary>
    public long ShardsExtracted => Interlocked.Read(ref _shardsExtracted);

    /// <summary>Runs <paramref name="request"/>'s model over its shard; the features of each requested layer, N_shard x D.</summary>
    public async Task<(ModelFeatures Features, string Provider)> Run(ShardRequest request)
    {
        var (extractor, gate) = await Session(request);
        var inputs = await ShardInputs(request, extractor);
        await gate.WaitAsync();
        try
        {
            var features = await Task.Run(() => extractor.Extract(inputs));
            Interlocked.Increment(ref _shardsExtracted);
            return (features, extractor.ExecutionProvider);
        }
        finally
        {
            gate.Release();
        }
    }

    private Task<(FeatureExtractor, SemaphoreSlim)> Session(ShardRequest request)
    {
        var source = request.Source;
        string key = $"{request.Model.Sha256}\n{source.Selection}\n{request.Preprocess?.Sha256}";
        return _sessions.GetOrAdd(key, _ => new Lazy<Task<(FeatureExtractor, SemaphoreSlim)>>(async () =>
        {
            byte[] model = await store.GetAsync(request.Model);
            byte[]? preprocess = request.Preprocess is { } blob ? await store.GetAsync(blob) : null;
            var options = new ExtractionOptions
            {
                Layers = source.Layers is { Count: > 0 } names ? LayerSelection.ByNames(names)
                    : LayerSelection.ByOp(source.LayerOp ?? throw new RefusalException($"{source.Path}: give layers or layer_op")),
                Pooling = source.Pool,
                MaskInput = source.Mask,
                Preprocess = preprocess,
                PreprocessSource = source.Preprocess ?? "preprocessing model",
            };
            var extractor = await Task.Run(() => new FeatureExtractor(model, options, source.Path));
            logger.LogInformation("ONNX session for {Model} on {Provider}", source.Path, extractor.ExecutionProvider);
            return (extractor, new SemaphoreSlim(1));
        })).Value;
    }

    /// <summary>The shard's tensors under the model's input names (a dataset input of the same name unless mapped), read from the store's bytes.</summary>
    private async Task<Dictionary<string, Tensor>> ShardInputs(ShardRequest request, FeatureExtractor extractor)
    {
        var dataset = SafetensorsFile.Read($"shard {request.Shard}", await store.GetAsync(request.Shard)).ToDictionary(t => t.Name);
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in extractor.Inputs)
        {
            string name = request.Source.Inputs?.GetValueOrDefault(input.Name) ?? input.Name;
            inputs[input.Name] = dataset.TryGetValue(name, out var tensor) ? tensor
                : throw new RefusalException($"{request.Source.Path}: model input '{input.Name}' needs dataset input '{name}'; the dataset has {string.Join(", ", dataset.Keys)}");
        }
        return inputs;
    }

    /// <summary>
    /// Frees each session once no shard runs in it: freeing a session ONNX Runtime is running crashes the process
    /// (a silo stopped mid-extraction). A session still running after <see cref="StopWait"/> is left to the process's end.
    /// </summary>
    public void Dispose()
    {
        foreach (var session in _sessions.Values)
        {
            if (!session.IsValueCreated || !session.Value.IsCompletedSuccessfully) continue;
            var (extractor, gate) = session.Value.Result;
            if (gate.Wait(StopWait)) extractor.Dispose();
            else logger.LogWarning("ONNX session for {Model} still running at shutdown; left to the process's end", extractor.Source);
        }
    }

    private static readonly TimeSpan StopWait = TimeSpan.FromSeconds(30);
}
