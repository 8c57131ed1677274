using Prh.Extraction;
using System.Security.Cryptography;
using System.Text;
using Prh.Contracts;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Contracts.Grains;
using Prh.Contracts.Models;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Aggregation;
using Prh.Grains.Extraction;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Models;

[GenerateSerializer, Alias("prh.ModelState")]
public sealed class ModelState
{
    [Id(0)] public StoredFeatures? Features { get; set; }
    [Id(1)] public string? Source { get; set; }

    /// <summary>The source file's length and last write time when it was imported ("" for a stored blob, whose content its name fixes).</summary>
    [Id(2)] public string? SourceStamp { get; set; }
}

/// <summary>
/// A model of a dataset: imports its feature file into the store (by content, so an unchanged file is
/// stored once), after checking every value the engine will read; or extracts its features with an
/// ONNX model, in shards run by <see cref="ExtractionGrain"/>s on the silos placement picks, in the
/// grain's background, and assembles them.
/// </summary>
public sealed class ModelGrain(
    [PersistentState("model", "prh")] IPersistentState<ModelState> state,
    IBlobStore store,
    LocalBlobs local) : Grain, IModelGrain
{
    private const int ShardAttempts = 3;
    private static readonly byte[] NpyMagic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];
    private readonly Dictionary<string, Extraction> _extractions = [];

    /// <summary>One extraction under way or done in this activation, and its progress.</summary>
    private sealed class Extraction
    {
        public Task Run = Task.CompletedTask;
        public ExtractionProgress Progress = new(0, 0, null, null, []);
    }

    public async Task<string> StartExtraction(OnnxSource source, IReadOnlyDictionary<string, string> datasetInputs, int shardSize)
    {
        string ticket = Ticket(source, datasetInputs, shardSize);
        // Joined while under way, and once done as long as its features are still stored; run again otherwise.
        if (_extractions.TryGetValue(ticket, out var known)
            && (!known.Run.IsCompleted || known.Progress.Features is { } done && await store.ExistsAsync(done.Blob)))
            return ticket;
        var extraction = new Extraction();
        _extractions[ticket] = extraction;
        extraction.Run = Extract(extraction, source, datasetInputs, shardSize);
        return ticket;
    }

    public Task<ExtractionProgress?> GetExtraction(string ticket) =>
        Task.FromResult(_extractions.TryGetValue(ticket, out var extraction) ? extraction.Progress : null);

    /// <summary>Names an extraction request by its content: source, layers, pooling, inputs and shard size.</summary>
    private static string Ticket(OnnxSource source, IReadOnlyDictionary<string, string> datasetInputs, int shardSize) =>
        ContentKey(source.Path, Request(source), Pairs(datasetInputs), shardSize);

    /// <summary>What is taken from the model: layers, pooling and the input mapping.</summary>
    private static string Request(OnnxSource source) =>
        string.Join("\n", string.Join(",", source.Layers ?? []), source.LayerOp, PoolingNames.Name(source.Pool), source.Mask, Pairs(source.Inputs));

    private static string ContentKey(params object?[] parts) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join("\n", parts))));

    private static string Pairs(IReadOnlyDictionary<string, string>? map) =>
        string.Join(",", (map ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));

    private async Task Extract(Extraction extraction, OnnxSource source, IReadOnlyDictionary<string, string> datasetInputs, int shardSize)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.model.extract");
        span?.SetTag("prh.model", this.GetPrimaryKeyString());
        span?.SetTag("prh.source", source.Path);
        try
        {
            if (shardSize < 1) throw new RefusalException($"shard_size must be at least 1, got {shardSize}");
            StoredFeatures features;
            try
            {
                features = await ExtractOnce(extraction, source, datasetInputs, shardSize);
            }
            catch (Exception e) when (SiloFailures.Find<LostBlobException>(e) is not null)
            {
                // The store discarded a corrupt model, shard or output when it was read: a second round puts
                // the inputs again and re-runs the shards whose outputs are gone.
                extraction.Progress = extraction.Progress with { ShardsDone = 0 };
                features = await ExtractOnce(extraction, source, datasetInputs, shardSize);
            }
            state.State.Features = features;
            state.State.Source = source.Path;
            await state.WriteStateAsync();
            extraction.Progress = extraction.Progress with { Features = features };
        }
        catch (Exception e) when (SiloFailures.Find<StoreUnavailableException>(e) is { } outage)
        {
            extraction.Progress = extraction.Progress with { Outage = outage.Message };
        }
        catch (Exception e)
        {
            span.Fail(e);
            // Named by its source once: extraction errors often name the model file already.
            extraction.Progress = extraction.Progress with { Error = e.Message.StartsWith(source.Path, StringComparison.Ordinal) ? e.Message : $"{source.Path}: {e.Message}" };
        }
    }

    private async Task<StoredFeatures> ExtractOnce(Extraction extraction, OnnxSource source, IReadOnlyDictionary<string, string> datasetInputs, int shardSize)
    {
        byte[] onnx = BlobRef.TryParseUri(source.Path, out var stored) ? await store.GetAsync(stored) : await Task.Run(() => ReadFile(source.Path));
        var model = await store.PutAsync(onnx);
        var shards = await Task.Run(() => Shards(datasetInputs, shardSize));
        var shardRefs = new List<BlobRef>();
        foreach (byte[] shard in shards) shardRefs.Add(await store.PutAsync(shard));
        extraction.Progress = extraction.Progress with { ShardCount = shardRefs.Count };

        var providers = new SortedSet<string>(StringComparer.Ordinal);
        var outputs = await Task.WhenAll(shardRefs.Select(async shard =>
        {
            var output = await ExtractShard(new ShardRequest(model, shard, source));
            lock (providers) providers.Add($"{output.ExecutionProvider}@{output.Silo}");
            extraction.Progress = extraction.Progress with { ShardsDone = extraction.Progress.ShardsDone + 1, Providers = providers.ToList() };
            return output;
        }));
        var (info, content) = await Assemble(outputs);
        return info with { Blob = await store.PutAsync(content) };
    }

    /// <summary>One shard on whichever silo placement picks; retried when a silo fails under it, not when the model refuses the input.</summary>
    private async Task<ShardOutput> ExtractShard(ShardRequest request)
    {
        string key = ContentKey(request.Model.Sha256, request.Shard.Sha256, Request(request.Source));
        return await SiloFailures.Retry(() => GrainFactory.GetGrain<IExtractionGrain>(key).Extract(request), ShardAttempts);
    }

    /// <summary>The dataset's inputs cut into shards of <paramref name="shardSize"/> samples, each a safetensors file of every input.</summary>
    private static List<byte[]> Shards(IReadOnlyDictionary<string, string> datasetInputs, int shardSize)
    {
        if (datasetInputs.Count == 0) throw new RefusalException("the sweep's dataset has no inputs for its ONNX models");
        var tensors = datasetInputs.ToDictionary(p => p.Key, p => ReadInput(p.Key, p.Value));
        int n = tensors.Values.First().Shape[0];
        foreach (var (name, tensor) in tensors)
            if (tensor.Shape[0] != n)
                throw new RefusalException($"dataset inputs have different N: '{tensors.Keys.First()}' has {n} samples, '{name}' has {tensor.Shape[0]}");
        var shards = new List<byte[]>();
        for (int start = 0; start < n; start += shardSize)
        {
            int count = Math.Min(shardSize, n - start);
            shards.Add(SafetensorsFile.Encode(tensors.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p =>
            {
                int row = p.Value.Values.Length / n;
                return (p.Key, (int[])[count, .. p.Value.Shape[1..]], p.Value.Values.AsSpan(start * row, count * row).ToArray(),
                    p.Value.SourceType == TensorDType.Float64 ? TensorDType.Float64 : TensorDType.Float32);
            })));
        }
        return shards;
    }

    private static Tensor ReadInput(string name, string path)
    {
        try
        {
            if (Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase)) return NpyFile.Read(path);
            var tensors = SafetensorsFile.Read(path);
            return tensors.Count == 1 ? tensors[0]
                : tensors.FirstOrDefault(t => t.Name == name) ?? throw new RefusalException($"dataset input '{name}': {path} holds {tensors.Count} tensors and none is named '{name}'");
        }
        catch (TensorFileException e)
        {
            throw new RefusalException($"dataset input '{name}': {e.Message}");
        }
    }

    private static byte[] ReadFile(string path)
    {
        try { return File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new RefusalException($"cannot read {path}: {e.Message}"); }
    }

    /// <summary>The shards' layers stacked in shard order: the model's N x D_l features, as safetensors layers.i.</summary>
    private async Task<(StoredFeatures Info, byte[] Content)> Assemble(IReadOnlyList<ShardOutput> outputs)
    {
        var parts = new List<ModelFeatures>();
        string folder = Directory.CreateTempSubdirectory("prh-assemble-").FullName;
        try
        {
            for (int s = 0; s < outputs.Count; s++)
            {
                string path = Path.Combine(folder, $"{s}.safetensors");
                await File.WriteAllBytesAsync(path, await store.GetAsync(outputs[s].Features));
                parts.Add(FeatureFile.Load(path));
            }
            int n = parts.Sum(p => p.SampleCount);
            var layers = Enumerable.Range(0, parts[0].LayerCount).Select(l =>
            {
                int width = parts[0].Layers[l].Width;
                var data = new double[n * width];
                int offset = 0;
                foreach (var part in parts)
                {
                    part.Layers[l].Data.CopyTo(data, offset);
                    offset += part.Layers[l].Data.Length;
                }
                return new LayerFeatures(n, width, data);
            }).ToList();
            var features = new ModelFeatures("extracted", layers);
            byte[] content = ExtractionGrain.Encode(features);
            return (new StoredFeatures(new BlobRef(string.Empty, 0), "safetensors", n, layers.Select(l => l.Width).ToArray()), content);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    public async Task<StoredFeatures> Import(string featuresPath)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.model.import");
        span?.SetTag("prh.model", this.GetPrimaryKeyString());
        span?.SetTag("prh.source", featuresPath);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        bool stored = BlobRef.TryParseUri(featuresPath, out var source);
        // Imported before from the same source, unchanged since (a stored blob cannot change): nothing to read again.
        string stamp = stored ? "" : Stamp(featuresPath);
        if (state.State.Features is { } known && state.State.Source == featuresPath && state.State.SourceStamp == stamp && stamp is not null
            && await store.ExistsAsync(known.Blob))
        {
            span?.SetTag("prh.cache_hit", true);
            return known;
        }
        // Read once: a stored blob from the store (verified against its hash), a file from its path.
        byte[] content = stored ? await store.GetAsync(source) : await Task.Run(() => ReadFeatures(featuresPath));
        string format = stored ? (content.AsSpan().StartsWith(NpyMagic) ? "npy" : "safetensors") : Path.GetExtension(featuresPath).TrimStart('.').ToLowerInvariant();
        var (n, widths, threshold) = await Task.Run(() => Check(featuresPath, content, format));
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

    /// <summary>"length:last write ticks" of a file, or null when it cannot be read (the import then says why).</summary>
    private static string? Stamp(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.Length}:{file.LastWriteTimeUtc.Ticks}" : null;
    }

    private static byte[] ReadFeatures(string path)
    {
        try
        {
            return FeatureFile.ReadBytes(path);
        }
        catch (TensorFileException e)
        {
            throw new RefusalException(e.Message);
        }
    }

    /// <summary>Checks every value the engine will read (header, size, NaN and Inf), refusing the file with its fault named.</summary>
    private static (int SampleCount, int[] LayerWidths, double Threshold) Check(string path, byte[] content, string format)
    {
        try
        {
            return FeatureFile.Check(path, content, format);
        }
        catch (TensorFileException e)
        {
            // Orleans carries the message to the caller; the exception type stays on the silo.
            throw new RefusalException(e.Message);
        }
    }
}
