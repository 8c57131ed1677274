using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Prh.Grains.Telemetry;

/// <summary>
/// PRH Cluster's spans and metrics, beside Orleans' own: one <see cref="ActivitySource"/> and one
/// <see cref="Meter"/>, both named "Prh". Export follows the standard OpenTelemetry environment
/// variables: OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, nothing otherwise (plus the console on
/// request); OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES name the process.
/// </summary>
public static class PrhTelemetry
{
    public const string Name = "Prh";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    public static readonly Counter<long> PairsScored = Meter.CreateCounter<long>("prh.pairs.scored", description: "Model pairs scored (each a compute_score of two models)");
    public static readonly Counter<long> LayerPairsScored = Meter.CreateCounter<long>("prh.layer_pairs.scored", description: "Layer pairs scored");
    public static readonly Counter<long> ExtractedSamples = Meter.CreateCounter<long>("prh.extraction.samples", description: "Samples run through ONNX models");
    public static readonly Histogram<double> ExtractionSeconds = Meter.CreateHistogram<double>("prh.extraction.duration", "s",
        "Seconds per extracted shard (samples per second = samples / duration)");
    public static readonly Counter<long> StoreBytesRead = Meter.CreateCounter<long>("prh.store.bytes_read", "By");
    public static readonly Counter<long> StoreBytesWritten = Meter.CreateCounter<long>("prh.store.bytes_written", "By");
    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("prh.cache.hits",
        description: "Stored sketch pieces and extraction shards found instead of computed");
    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>("prh.cache.misses", description: "Sketch pieces and extraction shards computed");
    public static readonly UpDownCounter<long> QueuedTiles = Meter.CreateUpDownCounter<long>("prh.aggregator.queue_depth", description: "Tiles planned and not yet recorded");
    public static readonly Counter<long> TilesScored = Meter.CreateCounter<long>("prh.tiles.scored", description: "Tiles scored (blocks of models against blocks)");
    public static readonly Counter<long> SketchesBuilt = Meter.CreateCounter<long>("prh.sketches.built",
        description: "Model sketch jobs run (each builds a model's missing pieces in one Gram pass)");
    public static readonly Counter<double> PhaseSeconds = Meter.CreateCounter<double>("prh.phase.seconds", "s",
        "Seconds per phase of the all-pairs work (prh.phase: import, sketch read, grams, neighbour lists, kernels, sketch store, block load, kernel products, neighbour " +
            "counts, pair metrics, results); core-seconds for the sketch steps that run layers in parallel");
    public static readonly Counter<double> GramFlops = Meter.CreateCounter<double>("prh.sketch.gram_flops",
        description: "Floating-point operations of the sketches' Gram matrices (N^2 D per layer)");
    public static readonly Counter<double> KernelProductFlops = Meter.CreateCounter<double>("prh.tile.kernel_flops",
        description: "Floating-point operations of the tiles' kernel products (2 P per layer pair)");
    public static readonly Histogram<double> TileSeconds = Meter.CreateHistogram<double>("prh.tile.duration", "s", "Seconds per scored tile");

    /// <summary>Tracing and metrics for a host: our source and meter, Orleans' sources and meter, and the exporters the environment asks for.</summary>
    public static IServiceCollection AddPrhOpenTelemetry(this IServiceCollection services, string serviceName, bool console = false,
        Action<TracerProviderBuilder>? tracing = null)
    {
        bool otlp = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"));
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName))
            .WithTracing(t =>
            {
                t.AddSource(Name, Orleans.Diagnostics.ActivitySources.AllActivitySourceName);
                if (otlp) t.AddOtlpExporter();
                if (console) t.AddConsoleExporter();
                tracing?.Invoke(t);
            })
            .WithMetrics(m =>
            {
                m.AddMeter(Name, "Microsoft.Orleans");
                if (otlp) m.AddOtlpExporter();
            });
        return services;
    }

    /// <summary>Adds <paramref name="seconds"/> to a phase of <see cref="PhaseSeconds"/>.</summary>
    public static void Phase(string phase, double seconds) => PhaseSeconds.Add(seconds, new KeyValuePair<string, object?>("prh.phase", phase));

    /// <summary>Marks a span failed with the exception, the OpenTelemetry way.</summary>
    public static void Fail(this Activity? activity, Exception e)
    {
        if (activity is null) return;
        activity.SetStatus(ActivityStatusCode.Error, e.Message);
        activity.AddException(e);
    }
}
