using Orleans.Placement;
using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Grains;
using Prh.Contracts.Storage;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Grains.Onnx;

/// <summary>
/// One ONNX model run over one shard (keyed by the request's content): returns the stored output when there
/// is one, runs the model otherwise. Placed on GPU silos first, and at random among them (shards are units
/// of equal size, so random placement spreads them evenly, whatever the silos' reported load).
/// </summary>
[PreferAccelerator, RandomPlacement]
public sealed class ExtractionGrain(OnnxSessions sessions, IBlobStore store, ILocalSiloDetails silo) : Grain, IExtractionGrain
{
    /// <summary>The stored output of an extraction, found by the extraction's key.</summary>
    private sealed record Index(BlobRef Features, string ExecutionProvider, string Silo);

    /// <summary>How long a call waits for the run: well inside Orleans' 30-second response timeout, even behind another caller's wait.</summary>
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(10);

    /// <summary>The run under way (a shard can take minutes on a busy CPU silo, queued behind the session's other shards).</summary>
    private Task<ShardOutput>? _run;

    public async Task<ShardOutput?> ExtractAsync(ShardRequest request)
    {
        var run = _run ??= Run(request);
        if (await Task.WhenAny(run, Task.Delay(WaitLimit)) != run) return null;
        _run = null; // done: a later call finds the stored output, or runs again if the store has lost it
        return await run;
    }

    private async Task<ShardOutput> Run(ShardRequest request)
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
        string name = $"extractions/{this.GetPrimaryKeyString()}";
        if (await store.ReadAsync<Index>(name) is { } stored && await store.ExistsAsync(stored.Features))
            return new ShardOutput(stored.Features, stored.ExecutionProvider, stored.Silo, Cached: true);
        (ModelFeatures Features, string Provider) result;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            result = await sessions.Run(request);
            PrhTelemetry.ExtractedSamples.Add(result.Features.SampleCount);
            PrhTelemetry.ExtractionSeconds.Record(watch.Elapsed.TotalSeconds);
        }
        catch (Exception e) when (Refusals.InputFault(e) is { } fault)
        {
            throw new RefusalException(fault.Message);
        }
        var output = await store.PutAsync(await Task.Run(() => Encode(result.Features)));
        var index = new Index(output, result.Provider, silo.SiloAddress.ToString());
        await store.UpdateAsync<Index>(name, _ => index);
        return new ShardOutput(output, index.ExecutionProvider, index.Silo, Cached: false);
    }

    /// <summary>Features as safetensors, one float32 layers.i tensor per layer (ONNX activations are float32, so nothing is lost).</summary>
    internal static byte[] Encode(ModelFeatures features) =>
        SafetensorsFile.Encode(features.Layers.Select((l, i) => ($"layers.{i}", new[] { l.SampleCount, l.Width }, l.Data, TensorDType.Float32)));
}
