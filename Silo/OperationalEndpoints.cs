using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orleans.Dashboard;
using Prh.Grains.Telemetry;

namespace Prh.Silo;

/// <summary>
/// What a silo serves over HTTP on <c>Health:Port</c> (off when 0), with ASP.NET Core's own parts:
/// <c>/healthz/live</c> and <c>/healthz/ready</c> (health checks: 200 while the process runs, and 200 only
/// while the silo is an active cluster member, else 503), <c>/metrics</c> (OpenTelemetry's Prometheus
/// exporter: this process's Prh meter since it started) and, with <c>Dashboard:Enabled</c>, the Orleans
/// Dashboard under <see cref="DashboardPath"/>. The web host starts after the silo has joined and stops
/// before it leaves (ASP.NET Core runs its server last), so a joining or stopping silo refuses the probes.
/// </summary>
public static class OperationalEndpoints
{
    public const string DashboardPath = "/dashboard";
    private const string Live = "live", Ready = "ready", MetricsKey = "prometheus";

    // Duration histograms in seconds (a tile takes milliseconds to minutes); the SDK's default bounds are for milliseconds.
    private static readonly double[] SecondsBounds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

    /// <summary>The port of the operational endpoints; 0 for none.</summary>
    public static int Port(IConfiguration configuration)
    {
        int port = configuration.GetValue<int>("Health:Port");
        return port is >= 0 and <= 65535 ? port : throw new InvalidOperationException($"Health:Port {port} is not a TCP port (1-65535, or 0 for no HTTP endpoints)");
    }

    /// <summary>Bucket bounds for the Prh meter's histograms in seconds, in every export (Prometheus and OTLP alike).</summary>
    public static MeterProviderBuilder AddSecondsHistograms(this MeterProviderBuilder metrics) => metrics.AddView(instrument =>
        instrument.Meter.Name == PrhTelemetry.Name && instrument is Histogram<double> { Unit: "s" }
            ? new ExplicitBucketHistogramConfiguration { Boundaries = SecondsBounds }
            : null);

    public static void AddOperationalEndpoints(this WebApplicationBuilder web, int port, string serviceName)
    {
        web.WebHost.ConfigureKestrel(kestrel => kestrel.ListenAnyIP(port));
        web.Services.AddHealthChecks()
            .AddCheck("process", () => HealthCheckResult.Healthy("the process answers"), tags: [Live])
            .AddCheck<SiloActiveCheck>("silo-active", tags: [Ready]);
        // /metrics has a meter provider of its own, for the Prh meter alone: Orleans' meter (exported over OTLP
        // with ours) counts in milliseconds and megabytes, with camelCase labels and no help texts, which
        // Prometheus' conventions (promtool check metrics) reject.
        web.Services.AddKeyedSingleton(MetricsKey, (_, _) => Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .AddMeter(PrhTelemetry.Name)
            .AddView(PrhTelemetry.StoreBytesRead.Name, new MetricStreamConfiguration { Description = "Bytes read from the activation store" })
            .AddView(PrhTelemetry.StoreBytesWritten.Name, new MetricStreamConfiguration { Description = "Bytes written to the activation store" })
            .AddSecondsHistograms()
            // The meter's name is in every series' name already (prh_), so no otel_scope_name label; and every
            // scrape collects anew (the default caches a response for 300 ms), so two reads in a row agree with the work done.
            .AddPrometheusExporter(o => (o.ScopeInfoEnabled, o.ScrapeResponseCacheDurationMilliseconds) = (false, 0))
            .Build());
    }

    public static void MapOperationalEndpoints(this WebApplication app, bool dashboard)
    {
        app.MapHealthChecks("/healthz/live", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Live) });
        app.MapHealthChecks("/healthz/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(Ready) });
        app.MapPrometheusScrapingEndpoint("/metrics", app.Services.GetRequiredKeyedService<MeterProvider>(MetricsKey), null, null);
        if (dashboard) app.MapOrleansDashboard(DashboardPath);
    }

    /// <summary>Healthy while this silo is an active member of its cluster: only then may it take gateway traffic.</summary>
    private sealed class SiloActiveCheck(ISiloStatusOracle oracle) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(oracle.CurrentStatus == SiloStatus.Active
                ? HealthCheckResult.Healthy("active in the cluster")
                : HealthCheckResult.Unhealthy($"the silo is {oracle.CurrentStatus}, not active in the cluster"));
    }
}
