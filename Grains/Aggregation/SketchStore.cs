using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Prh.Alignment.AllPairs;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Sketches;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Aggregation;

/// <summary>
/// A model's stored sketch, the document <c>sketches/{features sha}/q{quantile bits}</c>: N, the layer
/// widths, the clamp threshold (so nothing reads every value again to find it) and a blob per piece:
/// neighbour lists, centred kernels per kernel function (null: not stored, rebuilt from the features
/// where a tile needs them, see <see cref="CentredKernels.Stored"/>), SVCCA bases per cca_dim.
/// </summary>
public sealed record SketchManifest
{
    public required int SampleCount { get; init; }
    public required int[] LayerWidths { get; init; }
    public required double Threshold { get; init; }
    public int NeighbourColumns { get; init; }
    public string? Neighbours { get; init; }
    public Dictionary<string, string?> Kernels { get; init; } = [];
    public Dictionary<string, string> Svcca { get; init; } = [];

    /// <summary>The pieces of <paramref name="request"/> this sketch does not hold.</summary>
    public SketchRequest Missing(SketchRequest request) => new(
        request.NeighbourColumns > NeighbourColumns ? request.NeighbourColumns : 0,
        request.Kernels.Where(k => !Kernels.ContainsKey(Name(k))).ToList(),
        request.SvccaDimensions.Where(d => !Svcca.ContainsKey(d.ToString(CultureInfo.InvariantCulture))).ToList());

    public static string Name(KernelFunction kernel) => kernel.IsRbf ? $"rbf{BitConverter.DoubleToInt64Bits(kernel.Sigma):x16}" : "ip";
}

/// <summary>
/// Sketches in the store: building a model's missing pieces in one Gram pass and recording
/// them, and loading blocks of models for a tile (kernels decoded straight into the block's stack).
/// A stored piece found corrupt or missing is dropped from its manifest and built again here.
/// </summary>
public sealed class SketchStore(IBlobStore store, LocalBlobs local, ILogger<SketchStore> logger) : IDisposable
{
    private readonly SemaphoreSlim _grams = new(1);
    private long _piecesBuilt;

    /// <summary>Sketch pieces this silo built and stored: by sketch jobs, and again where a tile found one unusable.</summary>
    public long PiecesBuilt => Interlocked.Read(ref _piecesBuilt);

    public static string ManifestName(StoredFeatures model) =>
        $"sketches/{model.Blob.Sha256}/q{BitConverter.DoubleToInt64Bits(FeaturePreparation.DefaultQuantile):x16}";

    /// <summary>The model's stored sketch, or null when there is none (or it cannot be read: it is then built again).</summary>
    public async Task<SketchManifest?> ReadAsync(StoredFeatures model)
    {
        return await store.ReadAsync<SketchManifest>(ManifestName(model),
            () => logger.LogWarning("the stored sketch manifest of {Model} is not readable; building the sketch again", model.Blob));
    }

    /// <summary>Builds and stores what <paramref name="request"/> asks of the model and its stored sketch lacks; returns the pieces built.</summary>
    public async Task<int> BuildAsync(StoredFeatures model, SketchRequest request)
    {
        var manifest = await ReadAsync(model);
        var missing = manifest?.Missing(request) ?? request;
        int pieces = (missing.NeighbourColumns > 0 ? 1 : 0) + missing.Kernels.Count + missing.SvccaDimensions.Count;
        if (pieces == 0) return 0;
        using var span = PrhTelemetry.Source.StartActivity("prh.sketch.build");
        span?.SetTag("prh.features", model.Blob.Sha256);
        var watch = Stopwatch.StartNew();
        var raw = FeatureFile.Open(await local.PathAsync(model), model.Format);
        var timings = new SketchTimings();
        // Found on import, where every value was checked; otherwise (extracted features) one pass more here.
        double threshold = manifest?.Threshold ?? model.Threshold ?? await Task.Run(() => FeaturePreparation.ClampThreshold(raw));
        PrhTelemetry.Phase("sketch read", watch.Elapsed.TotalSeconds);
        var sketch = new ModelSketch(FeaturePreparation.PrepareAt(raw, threshold));
        // One Gram pass at a time on this silo: it uses every core, and another job's reading and storing overlap it.
        await _grams.WaitAsync();
        try
        {
            await Task.Run(() => sketch.Ensure(missing, timings));
        }
        finally
        {
            _grams.Release();
        }
        PrhTelemetry.Phase("grams", timings.Grams);
        if (missing.NeighbourColumns > 0 || missing.Kernels.Count > 0)
            PrhTelemetry.GramFlops.Add((double)model.SampleCount * model.SampleCount * model.LayerWidths.Sum(w => (double)w));
        PrhTelemetry.Phase("neighbour lists", timings.NeighbourLists);
        PrhTelemetry.Phase("kernels", timings.Kernels);
        PrhTelemetry.Phase("svcca bases", timings.Svcca);
        watch.Restart();
        string? neighbours = missing.NeighbourColumns > 0 ? await Put(() => SketchCodec.Encode(sketch.AllNeighbours(missing.NeighbourColumns))) : null;
        var kernels = new Dictionary<string, string?>();
        bool storeKernels = CentredKernels.Stored(model.SampleCount, model.LayerWidths);
        foreach (var kernel in missing.Kernels)
            kernels[SketchManifest.Name(kernel)] = storeKernels ? await Put(() => SketchCodec.Encode(sketch.Kernels(kernel))) : null;
        var svcca = new Dictionary<string, string>();
        foreach (int dimension in missing.SvccaDimensions)
            svcca[dimension.ToString(CultureInfo.InvariantCulture)] = await Put(() => SketchCodec.Encode(sketch.AllSvcca(dimension)));
        await Record(model, m => m with
        {
            NeighbourColumns = neighbours is null ? m.NeighbourColumns : missing.NeighbourColumns,
            Neighbours = neighbours ?? m.Neighbours,
            Kernels = Merge(m.Kernels, kernels),
            Svcca = Merge(m.Svcca, svcca),
        }, new SketchManifest { SampleCount = model.SampleCount, LayerWidths = model.LayerWidths, Threshold = threshold });
        PrhTelemetry.Phase("sketch store", watch.Elapsed.TotalSeconds);
        PrhTelemetry.CacheMisses.Add(pieces, new KeyValuePair<string, object?>("prh.kind", "sketch"));
        Interlocked.Add(ref _piecesBuilt, pieces);
        return pieces;
    }

    /// <summary>
    /// A block of models for a tile, holding the pieces of <paramref name="request"/>: lists and bases
    /// decoded into each model's sketch, kernels decoded (or, for models whose kernels are not stored,
    /// rebuilt from their features) into one stack per kernel function in <paramref name="stacks"/>.
    /// Pieces found missing or corrupt are built again first; the second try's failure is the caller's.
    /// </summary>
    public async Task<(SketchBlock Block, int PiecesRebuilt)> LoadBlockAsync(IReadOnlyList<StoredFeatures> models, SketchRequest request,
        Func<KernelFunction, int, Memory<double>> stacks)
    {
        int rebuilt = 0;
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var manifests = new SketchManifest[models.Count];
                for (int m = 0; m < models.Count; m++)
                {
                    // Built again until recorded whole: another silo may drop a piece it found unusable meanwhile.
                    var manifest = await ReadAsync(models[m]);
                    for (int build = 0; manifest is null || !IsEmpty(manifest.Missing(request)); build++)
                    {
                        if (build == 3) throw new InvalidOperationException($"the sketch of {models[m].Blob} was built three times but is still not recorded whole");
                        rebuilt += await BuildAsync(models[m], request);
                        manifest = await ReadAsync(models[m]);
                    }
                    manifests[m] = manifest;
                }
                var sketches = new ModelSketch[models.Count];
                var offsets = new int[models.Count + 1];
                for (int m = 0; m < models.Count; m++) offsets[m + 1] = offsets[m] + models[m].LayerWidths.Length;
                var kernels = request.Kernels.ToDictionary(k => k, k => CentredKernels.Allocate(models[0].SampleCount, offsets[^1], k, stacks(k, offsets[^1])));
                // Models in parallel: each piece read (from the file store's own file where it is one) and decoded into the block's stacks.
                await Parallel.ForAsync(0, models.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (m, _) =>
                {
                    sketches[m] = await LoadSketch(models[m], manifests[m], request);
                    foreach (var (kernel, stack) in kernels)
                    {
                        if (manifests[m].Kernels[SketchManifest.Name(kernel)] is { } stored)
                            await Piece(models[m], stored, "kernels", bytes => SketchCodec.DecodeKernels(bytes.Span, stack, offsets[m]));
                        else
                            sketches[m].Kernels(kernel).CopyTo(stack, offsets[m]);
                    }
                });
                return (new SketchBlock(sketches, kernels), rebuilt);
            }
            catch (PieceLostException lost) when (attempt <= 3) // each kind of piece can be found unusable once
            {
                logger.LogWarning("stored sketch piece {Piece} of {Model} is unusable ({Reason}); building it again", lost.Piece, lost.Model.Blob, lost.Message);
                await Record(lost.Model, m => Drop(m, lost.Piece), null);
            }
        }
    }

    private async Task<ModelSketch> LoadSketch(StoredFeatures model, SketchManifest manifest, SketchRequest request)
    {
        // Features are read only where a piece must be rebuilt from them (unstored kernels).
        string? path = request.Kernels.Any(k => manifest.Kernels[SketchManifest.Name(k)] is null) ? await local.PathAsync(model) : null;
        var sketch = new ModelSketch(model.Blob.Sha256, model.SampleCount, model.LayerWidths,
            () => FeaturePreparation.PrepareAt(FeatureFile.Open(path ?? throw new InvalidOperationException($"features of {model.Blob} were not fetched"), model.Format),
                manifest.Threshold));
        if (request.NeighbourColumns > 0)
            sketch.SeedNeighbours(await Piece(model, manifest.Neighbours!, "neighbours", bytes => SketchCodec.DecodeNeighbours(bytes.Span)));
        foreach (int dimension in request.SvccaDimensions)
            sketch.SeedSvcca(dimension, await Piece(model, manifest.Svcca[dimension.ToString(CultureInfo.InvariantCulture)], $"svcca{dimension}",
                bytes => SketchCodec.DecodeSvcca(bytes.Span)));
        return sketch;
    }

    /// <summary>A piece's bytes, decoded by <paramref name="decode"/>; a missing, corrupt or undecodable piece is reported as lost, to be built again.</summary>
    private async Task<T> Piece<T>(StoredFeatures model, string uri, string piece, Func<ReadOnlyMemory<byte>, T> decode)
    {
        if (!BlobRef.TryParseUri(uri, out var blob)) throw new PieceLostException(model, piece, $"'{uri}' is not a blob reference");
        try
        {
            return await local.ReadAsync(blob, decode);
        }
        catch (Exception e) when (e is LostBlobException or InvalidDataException)
        {
            throw new PieceLostException(model, piece, e.Message);
        }
    }

    private Task Piece(StoredFeatures model, string uri, string piece, Action<ReadOnlyMemory<byte>> decode) =>
        Piece(model, uri, piece, bytes => { decode(bytes); return true; });

    private sealed class PieceLostException(StoredFeatures model, string piece, string message) : Exception(message)
    {
        public StoredFeatures Model { get; } = model;
        public string Piece { get; } = piece;
    }

    private static SketchManifest Drop(SketchManifest m, string piece) => piece switch
    {
        "neighbours" => m with { Neighbours = null, NeighbourColumns = 0 },
        "kernels" => m with { Kernels = [] },
        _ => m with { Svcca = [] },
    };

    private static bool IsEmpty(SketchRequest r) => r.NeighbourColumns == 0 && r.Kernels.Count == 0 && r.SvccaDimensions.Count == 0;

    /// <summary>Changes the model's manifest (another silo may be recording pieces of the same model); <paramref name="fresh"/> where there is none yet.</summary>
    private Task Record(StoredFeatures model, Func<SketchManifest, SketchManifest> change, SketchManifest? fresh) =>
        store.UpdateAsync<SketchManifest>(ManifestName(model), current => (current ?? fresh) is { } manifest ? change(manifest) : null);

    private static Dictionary<string, T> Merge<T>(Dictionary<string, T> a, Dictionary<string, T> b)
    {
        var merged = new Dictionary<string, T>(a);
        foreach (var (k, v) in b) merged[k] = v;
        return merged;
    }

    /// <summary>Encodes (off the grain scheduler) and stores a piece; this process wrote it, so reading it back needs no hash.</summary>
    private async Task<string> Put(Func<byte[]> encode)
    {
        var blob = await store.PutAsync(await Task.Run(encode));
        local.Written(blob);
        return blob.ToUri();
    }

    public void Dispose() => _grams.Dispose();
}
