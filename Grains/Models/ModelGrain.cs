using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Aggregation;
using Prh.Grains.Onnx;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Models;

[GenerateSerializer, Alias("prh.ModelState")]
public sealed class ModelState
{
    [Id(0)] public StoredFeatures? Features { get; set; }
    [Id(1)] public string? Source { get; set; }

    /// <summary>The source's <see cref="SourceStamp"/> when it was imported.</summary>
    [Id(2)] public string? SourceStamp { get; set; }
}

/// <summary>
/// A model of a dataset: imports its feature file into the store (by content, so an unchanged file is
/// stored once), after checking every value the engine will read; or extracts its features with an
/// ONNX model over the dataset's shards (each shard's extraction asked of its <see cref="IShardGrain"/>),
/// in the grain's background, and joins them.
/// </summary>
public sealed class ModelGrain(
    [PersistentState("model", "prh")] IPersistentState<ModelState> state,
    IBlobStore store,
    LocalBlobs local) : Grain, IModelGrain
{
    private readonly Dictionary<string, ExtractionRun> _extractions = [];

    /// <summary>One extraction under way or done in this activation, and its progress.</summary>
    private sealed class ExtractionRun
    {
        public Task Task = Task.CompletedTask;
        public ExtractionProgress Progress = new(0, 0, null, null, []);
    }

    private string Dataset => this.GetPrimaryKeyString().Split('/')[0];

    public async Task<string> StartExtractionAsync(OnnxSource source, DatasetSource data, int shardSize)
    {
        string ticket = ContentKey.Of(source.Path, source.Selection, source.Preprocess, data.Description, shardSize);
        // Joined while under way, and once done as long as its features are still stored; run again otherwise.
        if (_extractions.TryGetValue(ticket, out var known)
            && (!known.Task.IsCompleted || known.Progress.Features is { } done && await store.ExistsAsync(done.Blob)))
            return ticket;
        var run = new ExtractionRun();
        _extractions[ticket] = run;
        run.Task = Extract(run, source, data, shardSize);
        return ticket;
    }

    public Task<ExtractionProgress?> GetExtractionAsync(string ticket) =>
        Task.FromResult(_extractions.TryGetValue(ticket, out var run) ? run.Progress : null);

    private async Task Extract(ExtractionRun run, OnnxSource source, DatasetSource data, int shardSize)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.model.extract");
        span?.SetTag("prh.model", this.GetPrimaryKeyString());
        span?.SetTag("prh.source", source.Path);
        try
        {
            StoredFeatures features;
            try
            {
                features = await ExtractOnce(run, source, data, shardSize);
            }
            catch (Exception e) when (SiloFailures.Find<LostBlobException>(e) is not null)
            {
                // The store discarded a corrupt model, shard or output when it was read: a second round puts the
                // model again, has the dataset cut its shards again and re-runs the shards whose outputs are gone.
                run.Progress = run.Progress with { ShardsDone = 0 };
                features = await ExtractOnce(run, source, data, shardSize);
            }
            state.State.Features = features;
            state.State.Source = source.Path;
            await state.WriteStateAsync();
            run.Progress = run.Progress with { Features = features };
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            run.Progress = run.Progress with { Outage = outage.Message };
        }
        catch (Exception e)
        {
            span.Fail(e);
            // Named by its source once: extraction errors often name the model file already.
            run.Progress = run.Progress with { Error = e.Message.StartsWith(source.Path, StringComparison.Ordinal) ? e.Message : $"{source.Path}: {e.Message}" };
        }
    }

    private async Task<StoredFeatures> ExtractOnce(ExtractionRun run, OnnxSource source, DatasetSource data, int shardSize)
    {
        var model = await Stored(source.Path);
        var preprocess = source.Preprocess is { } path ? await Stored(path) : null;
        var dataset = GrainFactory.GetGrain<IDatasetGrain>(Dataset);
        IReadOnlyList<Shard>? shards;
        while ((shards = await dataset.GetShardsAsync(data, shardSize)) is null) { } // each call waits a few seconds
        run.Progress = run.Progress with { ShardCount = shards.Count };

        var sites = new HashSet<ExtractionSite>();
        var outputs = await Task.WhenAll(shards.Select(async shard =>
        {
            var grain = GrainFactory.GetGrain<IShardGrain>(shard.GrainKey(Dataset));
            ShardOutput? output;
            while ((output = await grain.ExtractAsync(model, source, preprocess)) is null) { } // each call waits a few seconds
            lock (sites) sites.Add(new ExtractionSite(output.ExecutionProvider, output.Silo));
            run.Progress = run.Progress with { ShardsDone = run.Progress.ShardsDone + 1, Sites = sites.ToList() };
            return output;
        }));
        var (features, content) = await Join(outputs);
        return features with { Blob = await store.PutAsync(content) };
    }

    /// <summary>An ONNX model file put into the store, or a stored one checked to be there.</summary>
    private async Task<BlobRef> Stored(string path)
    {
        var blob = BlobRef.TryParseUri(path, out var stored) ? stored : await store.PutAsync(await ReadFile(path));
        return await store.ExistsAsync(blob) ? blob : throw new RefusalException($"{path} is not in the store {store.Description}");
    }

    private static async Task<byte[]> ReadFile(string path)
    {
        try { return await File.ReadAllBytesAsync(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new RefusalException($"cannot read {path}: {e.Message}"); }
    }

    /// <summary>The shards' layers stacked in shard order, read from the stored outputs' bytes: the model's N x D_l features, as safetensors layers.i.</summary>
    private async Task<(StoredFeatures Features, byte[] Content)> Join(IReadOnlyList<ShardOutput> outputs)
    {
        var parts = new List<IReadOnlyList<Tensor>>();
        foreach (var output in outputs) parts.Add(SafetensorsFile.Read($"extraction output {output.Features}", await store.GetAsync(output.Features)));
        return await Task.Run(() =>
        {
            int n = parts.Sum(p => p[0].Shape[0]);
            var layers = Enumerable.Range(0, parts[0].Count).Select(l =>
            {
                int width = parts[0][l].Shape[1];
                var data = new double[n * width];
                int offset = 0;
                foreach (var part in parts)
                {
                    part[l].Values.CopyTo(data, offset);
                    offset += part[l].Values.Length;
                }
                return new LayerFeatures(n, width, data);
            }).ToList();
            var features = new StoredFeatures(new BlobRef(string.Empty, 0), FeatureFormat.Safetensors, n, layers.Select(l => l.Width).ToArray());
            return (features, ExtractionGrain.Encode(new ModelFeatures("extracted", layers)));
        });
    }

    public async Task<StoredFeatures> ImportAsync(string featuresPath)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.model.import");
        span?.SetTag("prh.model", this.GetPrimaryKeyString());
        span?.SetTag("prh.source", featuresPath);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        bool stored = BlobRef.TryParseUri(featuresPath, out var source);
        // Imported before from the same source, unchanged since (a stored blob cannot change): nothing to read again.
        string? stamp = SourceStamp.Of(featuresPath);
        if (state.State.Features is { } known && state.State.Source == featuresPath && state.State.SourceStamp == stamp && stamp is not null
            && await store.ExistsAsync(known.Blob))
        {
            span?.SetTag("prh.cache_hit", true);
            return known;
        }
        // Read once: a stored blob from the store (verified against its hash), a file from its path.
        byte[] content = stored ? await store.GetAsync(source) : await Task.Run(() => Refusals.Engine(() => FeatureFile.ReadBytes(featuresPath)));
        var format = stored ? FeatureFormats.OfContent(content) : Refusals.Engine(() => FeatureFormats.OfPath(featuresPath));
        var (n, widths, threshold) = await Task.Run(() => Refusals.Engine(() => FeatureFile.Check(featuresPath, content, format)));
        var blob = stored ? source : await store.PutAsync(content);
        if (stored) local.Written(blob); // the store's own copy was hashed just now: this silo reads it back without hashing it again
        var features = new StoredFeatures(blob, format, n, widths, threshold);
        PrhTelemetry.Phase("import", watch.Elapsed.TotalSeconds);
        if (state.State.Features != features || state.State.Source != featuresPath || state.State.SourceStamp != stamp)
        {
            state.State.Features = features;
            state.State.Source = featuresPath;
            state.State.SourceStamp = stamp;
            await state.WriteStateAsync();
        }
        return features;
    }
}
