using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;

namespace Prh.Grains.Datasets;

[GenerateSerializer, Alias("prh.DatasetState")]
public sealed class DatasetState
{
    [Id(0)] public int? SampleCount { get; set; }
    [Id(1)] public string? FirstModel { get; set; }

    /// <summary>The shards cut so far, by their sources (each input's name, source and <see cref="SourceStamp"/>) and shard size.</summary>
    [Id(2)] public Dictionary<string, List<Shard>> Shards { get; set; } = [];
}

/// <summary>
/// A dataset: its N (the first model registered sets it, every other model must match it) and its inputs,
/// read once and cut into content-named shards that every ONNX model of the dataset shares.
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

    public async Task<IReadOnlyList<Shard>> GetShardsAsync(IReadOnlyDictionary<string, string> inputs, int shardSize)
    {
        if (shardSize < 1) throw new RefusalException($"shard_size must be at least 1, got {shardSize}");
        if (inputs.Count == 0) throw new RefusalException($"dataset '{this.GetPrimaryKeyString()}' has no inputs for its ONNX models");
        var ordered = inputs.OrderBy(p => p.Key, StringComparer.Ordinal).ToList();
        string key = ContentKey.Of(ordered.Select(p
            => $"{p.Key}={p.Value}@{SourceStamp.Of(p.Value)}").Append(shardSize.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (state.State.Shards.TryGetValue(key, out var known) && await AllStored(known)) return known;

        var tensors = new List<(string Name, Tensor Tensor)>();
        foreach (var (name, source) in ordered) tensors.Add((name, await ReadInput(name, source)));
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
