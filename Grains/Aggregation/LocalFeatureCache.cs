using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Sketches;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>
/// Per silo: stored feature blobs copied to local files (so the engine can stream their layers) and
/// the sketches of the most recently used models, keyed by feature content. The sketch pieces a metric
/// reads (neighbour lists, centred kernels) also live in the store, named by feature content,
/// preparation and piece; a <see cref="ISketchPieceGrain"/> per piece builds it once for the whole
/// cluster, and every other silo loads it.
/// </summary>
public sealed class LocalFeatureCache(IActivationStore store, IGrainFactory grains, ILogger<LocalFeatureCache> logger)
{
    private const int SketchCapacity = 16;
    private readonly string _folder = Directory.CreateTempSubdirectory("prh-features-").FullName;
    private readonly Lock _lock = new();
    private readonly LinkedList<(string Key, Lazy<Task<ModelSketch>> Sketch)> _recent = new();
    private long _piecesComputed, _piecesLoaded;

    /// <summary>Sketch pieces this silo built (and stored).</summary>
    public long PiecesComputed => Interlocked.Read(ref _piecesComputed);

    /// <summary>Sketch pieces this silo loaded from the store instead of building them.</summary>
    public long PiecesLoaded => Interlocked.Read(ref _piecesLoaded);

    /// <summary>The model's sketch holding the piece <paramref name="metric"/> reads.</summary>
    public async Task<ModelSketch> Sketch(FeatureInfo features, MetricConfig metric)
    {
        var sketch = await Sketch(features);
        var spec = metric.ToSpec();
        if (PieceName(features, sketch, spec) is not { } name || Has(sketch, spec)) return sketch;
        using var span = PrhTelemetry.Source.StartActivity("prh.sketch.piece");
        span?.SetTag("prh.piece", name);
        var blob = await grains.GetGrain<ISketchPieceGrain>(name).Ensure(features, metric);
        if (Has(sketch, spec)) return sketch; // the piece was built on this silo, into this very sketch
        try
        {
            Seed(sketch, spec, await store.GetAsync(blob));
            Interlocked.Increment(ref _piecesLoaded);
            span?.SetTag("prh.cache_hit", true);
            PrhTelemetry.CacheHits.Add(1, new KeyValuePair<string, object?>("prh.kind", "sketch"));
        }
        catch (Exception e) when (e is CorruptBlobException or BlobNotFoundException or InvalidDataException)
        {
            logger.LogWarning(e, "stored sketch {Name} is unusable; building it here", name);
            await Task.Run(() => Build(sketch, spec));
            Interlocked.Increment(ref _piecesComputed);
        }
        return sketch;
    }

    /// <summary>For <see cref="ISketchPieceGrain"/>: the stored piece, or build and store it now.</summary>
    public async Task<BlobRef> StoredOrBuilt(string name, FeatureInfo features, MetricConfig metric)
    {
        if (await store.ReadDocumentAsync(name) is { } index && Parse(index.Content) is { } stored && await store.ExistsAsync(stored))
            return stored;
        var sketch = await Sketch(features);
        using var span = PrhTelemetry.Source.StartActivity("prh.sketch.build");
        span?.SetTag("prh.piece", name);
        byte[] bytes = await Task.Run(() => Build(sketch, metric.ToSpec()));
        Interlocked.Increment(ref _piecesComputed);
        PrhTelemetry.CacheMisses.Add(1, new KeyValuePair<string, object?>("prh.kind", "sketch"));
        var blob = await store.PutAsync(bytes);
        var existing = await store.ReadDocumentAsync(name);
        await store.WriteDocumentAsync(name, Encoding.UTF8.GetBytes($"{blob.Sha256} {blob.Length}"), existing?.ETag);
        return blob;
    }

    /// <summary>The store name of the piece a metric reads, or null (svcca bases are small, per layer, built where used).</summary>
    private static string? PieceName(FeatureInfo features, ModelSketch sketch, MetricSpec spec)
    {
        string prefix = $"sketches/{features.Blob.Sha256}/q{BitConverter.DoubleToInt64Bits(FeaturePreparation.DefaultQuantile):x16}";
        return spec.Kind switch
        {
            MetricKind.Svcca => null,
            MetricKind.Cka or MetricKind.UnbiasedCka =>
                $"{prefix}/kernels-{(spec.Kernel.IsRbf ? $"rbf{BitConverter.DoubleToInt64Bits(spec.Kernel.Sigma):x16}" : "ip")}",
            _ => $"{prefix}/neighbours-{NeighbourLists.ColumnsFor(sketch.SampleCount, TopK(sketch, spec))}",
        };
    }

    private static int TopK(ModelSketch sketch, MetricSpec spec) => spec.AllColumns ? sketch.SampleCount : spec.TopK!.Value;

    private static bool Has(ModelSketch sketch, MetricSpec spec) => spec.Kind switch
    {
        MetricKind.Svcca => true,
        MetricKind.Cka or MetricKind.UnbiasedCka => sketch.HasKernels(spec.Kernel),
        _ => sketch.HasNeighbours(TopK(sketch, spec)),
    };

    private static byte[] Build(ModelSketch sketch, MetricSpec spec) => spec.Kind is MetricKind.Cka or MetricKind.UnbiasedCka
        ? SketchCodec.Encode(sketch.Kernels(spec.Kernel))
        : SketchCodec.Encode(sketch.AllNeighbours(TopK(sketch, spec)));

    private static void Seed(ModelSketch sketch, MetricSpec spec, byte[] bytes)
    {
        if (spec.Kind is MetricKind.Cka or MetricKind.UnbiasedCka) sketch.SeedKernels(SketchCodec.DecodeKernels(bytes));
        else sketch.SeedNeighbours(SketchCodec.DecodeNeighbours(bytes));
    }

    private static BlobRef? Parse(byte[] index)
    {
        string[] parts = Encoding.UTF8.GetString(index).Split(' ');
        return parts.Length == 2 && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long length)
            ? new BlobRef(parts[0], length) : null;
    }

    private Task<ModelSketch> Sketch(FeatureInfo features)
    {
        string key = features.Blob.Sha256;
        lock (_lock)
        {
            for (var node = _recent.First; node is not null; node = node.Next)
            {
                if (node.Value.Key != key) continue;
                _recent.Remove(node);
                // A failed load (features lost, store out) is not kept: the next call tries again.
                if (node.Value.Sketch.IsValueCreated && node.Value.Sketch.Value.IsFaulted) break;
                _recent.AddFirst(node);
                return node.Value.Sketch.Value;
            }
            var sketch = new Lazy<Task<ModelSketch>>(() => Build(features));
            _recent.AddFirst((key, sketch));
            if (_recent.Count > SketchCapacity) _recent.RemoveLast();
            return sketch.Value;
        }
    }

    private async Task<ModelSketch> Build(FeatureInfo features)
    {
        string path = await LocalCopies.Ensure(store, features.Blob, Path.Combine(_folder, $"{features.Blob.Sha256}.{features.Format}"));
        return new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Open(path)));
    }
}

/// <summary>Builds one stored sketch piece once for the cluster (one activation per piece serialises the builders).</summary>
public sealed class SketchPieceGrain(LocalFeatureCache cache) : Grain, ISketchPieceGrain
{
    public Task<BlobRef> Ensure(FeatureInfo features, MetricConfig metric) =>
        cache.StoredOrBuilt(this.GetPrimaryKeyString(), features, metric);
}
