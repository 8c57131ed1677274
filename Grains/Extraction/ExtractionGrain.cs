using Orleans.Placement;
using System.Text;
using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Extraction;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Extraction;

/// <summary>
/// One shard of one model's extraction (keyed by content): returns the stored output when there is one,
/// runs the model otherwise. Placed on GPU silos first, and at random among them (shards are units of
/// equal size, so random placement spreads them evenly, whatever the silos' reported load).
/// </summary>
[PreferAccelerator, RandomPlacement]
public sealed class ExtractionGrain(ExtractionSessions sessions, IBlobStore store, ILocalSiloDetails silo) : Grain, IExtractionGrain
{
    public async Task<ShardOutput> Extract(ShardRequest request)
    {
        using var span = PrhTelemetry.Source.StartActivity("prh.extraction.shard");
        span?.SetTag("prh.model", request.Source.Path);
        span?.SetTag("prh.shard", request.Shard.Sha256);
        span?.SetTag("prh.silo", silo.SiloAddress.ToString());
        try
        {
            var output = await ExtractOrFind(request);
            span?.SetTag("prh.provider", output.ExecutionProvider);
            span?.SetTag("prh.cache_hit", output.Cached);
            (output.Cached ? PrhTelemetry.CacheHits : PrhTelemetry.CacheMisses).Add(1, new KeyValuePair<string, object?>("prh.kind", "extraction"));
            return output;
        }
        catch (Exception e)
        {
            span.Fail(e);
            throw;
        }
    }

    private async Task<ShardOutput> ExtractOrFind(ShardRequest request)
    {
        string index = $"extractions/{this.GetPrimaryKeyString()}";
        if (await store.ReadDocumentAsync(index) is { } stored)
        {
            string[] parts = Encoding.UTF8.GetString(stored.Content).Split(' ');
            var blob = new BlobRef(parts[0], long.Parse(parts[1]));
            if (await store.ExistsAsync(blob)) return new ShardOutput(blob, parts[2], parts[3], Cached: true);
        }
        (Prh.Alignment.Features.ModelFeatures features, string provider) result;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            result = await sessions.Run(request);
            PrhTelemetry.ExtractedSamples.Add(result.features.SampleCount);
            PrhTelemetry.ExtractionSeconds.Record(watch.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (Refusals.IsInputFault(e))
        {
            throw new RefusalException(e.Message);
        }
        byte[] bytes = await Task.Run(() => Encode(result.features));
        var output = await store.PutAsync(bytes);
        string where = silo.SiloAddress.ToString().Replace(' ', '_');
        var existing = await store.ReadDocumentAsync(index);
        await store.WriteDocumentAsync(index, Encoding.UTF8.GetBytes($"{output.Sha256} {output.Length} {result.provider} {where}"), existing?.ETag);
        return new ShardOutput(output, result.provider, where, Cached: false);
    }

    /// <summary>A shard's features as safetensors, one float32 layers.i tensor per layer (the activations are float32).</summary>
    internal static byte[] Encode(Prh.Alignment.Features.ModelFeatures features) =>
        SafetensorsFile.Encode(features.Layers.Select((l, i) => ($"layers.{i}", new[] { l.SampleCount, l.Width }, l.Data, TensorDType.Float32)));
}
