using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Extraction.Datasets;
using Prh.Grains.Storage;

namespace Prh.Grains.Datasets;

[GenerateSerializer, Alias("prh.DatasetState")]
public sealed class DatasetState
{
    [Id(0)] public int? SampleCount { get; set; }
    [Id(1)] public string? FirstModel { get; set; }

    /// <summary>The shards cut so far, by their sources (each input's name, source and <see cref="SourceStamp"/>) and shard size.</summary>
    [Id(2)] public Dictionary<string, List<Shard>> Shards { get; set; } = [];

    /// <summary>The dataset's sample ids, in order, once a samples file, a build or a model's features named them; and who did.</summary>
    [Id(3)] public List<string>? SampleIds { get; set; }
    [Id(4)] public string? SamplesSource { get; set; }
}

/// <summary>
/// A dataset: its N (the first model registered sets it, every other model must match it), its sample ids
/// (the first list given sets them; every later list must be the same samples in the same order), and its
/// inputs, read once (or built from raw samples) and cut into content-named shards that every ONNX model of
/// the dataset shares.
/// </summary>
public sealed class DatasetGrain([PersistentState("dataset", "prh")] IPersistentState<DatasetState> state, IBlobStore store) : Grain, IDatasetGrain
{
    public async Task RegisterAsync(string modelId, int sampleCount)
    {
        if (state.State.SampleCount is { } n)
        {
            if (n != sampleCount)
                throw new RefusalException(
                    $"model '{modelId}' has N = {sampleCount} samples but dataset '{this.GetPrimaryKeyString()}' has N = {n} (set by model '{state.State.FirstModel}')");
            return;
        }
        state.State.SampleCount = sampleCount;
        state.State.FirstModel = modelId;
        await state.WriteStateAsync();
    }

    public Task<int?> GetSampleCountAsync() => Task.FromResult(state.State.SampleCount);

    public async Task CheckSamplesAsync(string who, string samplesFile)
    {
        string text;
        try
        {
            text = BlobRef.TryParseUri(samplesFile, out var blob)
                ? System.Text.Encoding.UTF8.GetString(await store.GetAsync(blob))
                : await File.ReadAllTextAsync(samplesFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RefusalException($"{who}: cannot read its samples file {samplesFile}: {e.Message}");
        }
        await RecordSamples(who, samplesFile, SampleIds.Parse(samplesFile, text));
    }

    /// <summary>Sets the dataset's sample ids from the first list given; refuses any other list with its first difference.</summary>
    private async Task RecordSamples(string who, string source, IReadOnlyList<string> ids)
    {
        if (state.State.SampleIds is { } recorded)
        {
            if (SampleIds.Difference(recorded, ids) is { } difference)
                throw new RefusalException($"{who}: {source} does not list dataset '{this.GetPrimaryKeyString()}''s samples: {difference} " +
                    $"(its samples were set by {state.State.SamplesSource})");
            return;
        }
        if (state.State.SampleCount is { } n && n != ids.Count)
            throw new RefusalException($"{who}: {source} lists {ids.Count} samples but dataset '{this.GetPrimaryKeyString()}' has N = {n}");
        state.State.SampleIds = [.. ids];
        state.State.SamplesSource = $"{who} ({source})";
        await state.WriteStateAsync();
    }

    /// <summary>How long a call waits for the shards: short, so calls queued behind it (this grain takes one at a time) stay within their timeout.</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(5);

    /// <summary>The cuts under way, by request (sources and shard size).</summary>
    private readonly Dictionary<string, Task<IReadOnlyList<Shard>>> _cutting = new(StringComparer.Ordinal);

    public async Task<IReadOnlyList<Shard>?> GetShardsAsync(DatasetSource source, int shardSize)
    {
        if (shardSize < 1) throw new RefusalException($"shard_size must be at least 1, got {shardSize}");
        if (source.IsEmpty) throw new RefusalException($"dataset '{this.GetPrimaryKeyString()}' has no inputs for its ONNX models");
        string request = ContentKey.Of(source.Description, shardSize);
        if (!_cutting.TryGetValue(request, out var cut)) _cutting[request] = cut = Cut(source, shardSize);
        if (await Task.WhenAny(cut, Task.Delay(WaitLimit)) != cut) return null;
        _cutting.Remove(request); // done or refused: the next request looks again (a source may have changed)
        return await cut;
    }

    private async Task<IReadOnlyList<Shard>> Cut(DatasetSource source, int shardSize)
    {
        if (source.Samples is { } samples) await CheckSamplesAsync("the dataset's inputs", samples);
        string key = ContentKey.Of(Stamps(source).Append(shardSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (state.State.Shards.TryGetValue(key, out var known) && await AllStored(known)) return known;

        var tensors = source.Build is { } build ? await Build(build) : await Read(source.Files!);
        int n = tensors[0].Tensor.Shape[0];
        foreach (var (name, tensor) in tensors)
            if (tensor.Shape[0] != n)
                throw new RefusalException($"dataset inputs have different N: '{tensors[0].Name}' has {n} samples, '{name}' has {tensor.Shape[0]}");
        var shards = new List<Shard>();
        for (int start = 0; start < n; start += shardSize)
        {
            int count = Math.Min(shardSize, n - start);
            byte[] content = await Task.Run(() => SafetensorsFile.Encode(tensors.Select(t =>
            {
                int row = t.Tensor.Values.Length / n;
                return (t.Name, (int[])[count, .. t.Tensor.Shape[1..]], t.Tensor.Values.AsSpan(start * row, count * row).ToArray(),
                    t.Tensor.SourceType); // each input keeps its element type: token ids stay integers
            })));
            shards.Add(new Shard(await store.PutAsync(content), start, count));
        }
        state.State.Shards[key] = shards;
        await state.WriteStateAsync();
        return shards;
    }

    private async Task<bool> AllStored(IEnumerable<Shard> shards)
    {
        foreach (var shard in shards)
            if (!await store.ExistsAsync(shard.Inputs)) return false;
        return true;
    }

    /// <summary>Each source file with its <see cref="SourceStamp"/>: the shards cut from them are found again while none changed.</summary>
    /// <remarks>A build's sources are its samples file, its vocabulary and every image the file names.</remarks>
    private static IEnumerable<string> Stamps(DatasetSource source) =>
        source.Build is { } build
            ? new[] { build.Samples, build.Vocab }.OfType<string>()
                .Concat(Refusals.Engine(() => SampleFile.Read(build.Samples)).Select(s => s.ImagePath).OfType<string>())
                .Select(f => $"{f}@{SourceStamp.Of(f)}").Append(build.ToString())
            : source.Files!.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}@{SourceStamp.Of(p.Value)}");

    /// <summary>The inputs built from raw samples, here on the silo, as <c>prh dataset build</c> builds them; the samples' ids become the dataset's.</summary>
    private async Task<List<(string Name, Tensor Tensor)>> Build(DatasetBuild build)
    {
        var options = new DatasetOptions { ImageSize = build.ImageSize, Normalize = build.Normalize, VocabularyPath = build.Vocab, MaxTokens = build.MaxTokens };
        var built = await Task.Run(() => Refusals.Engine(() => DatasetBuilder.Build(build.Samples, options), $"dataset build {build.Samples}"));
        await RecordSamples("the dataset's build", build.Samples, built.Ids);
        return built.Tensors.Select(t => (t.Name, t)).ToList();
    }

    private async Task<List<(string Name, Tensor Tensor)>> Read(IReadOnlyDictionary<string, string> files)
    {
        var tensors = new List<(string Name, Tensor Tensor)>();
        foreach (var (name, file) in files.OrderBy(p => p.Key, StringComparer.Ordinal)) tensors.Add((name, await ReadInput(name, file)));
        return tensors;
    }

    /// <summary>A dataset input: a .npy file, a .safetensors file (its one tensor, or the one of the input's name), or a stored blob of either.</summary>
    private async Task<Tensor> ReadInput(string name, string source)
    {
        bool stored = BlobRef.TryParseUri(source, out var blob);
        byte[] content;
        try
        {
            content = stored ? await store.GetAsync(blob) : await File.ReadAllBytesAsync(source);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new RefusalException($"dataset input '{name}': cannot read {source}: {e.Message}");
        }
        return await Task.Run(() => Refusals.Engine(() =>
        {
            bool npy = stored ? NpyFile.IsNpy(content) : Path.GetExtension(source).Equals(".npy", StringComparison.OrdinalIgnoreCase);
            if (npy) return NpyFile.Read(source, content);
            var all = SafetensorsFile.Read(source, content);
            return all.Count == 1 ? all[0]
                : all.FirstOrDefault(t => t.Name == name) ?? throw new RefusalException($"dataset input '{name}': {source} holds {all.Count} tensors and none is named '{name}'");
        }, $"dataset input '{name}'"));
    }
}
