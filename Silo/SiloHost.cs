using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Hosting.Kubernetes;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Prh.Grains;
using Prh.Grains.Aggregation;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Silo;

/// <summary>
/// The silo host: configuration from appsettings.json, PRH_-prefixed environment variables
/// (PRH_Store__Kind=blob, PRH_Cluster__Clustering=redis, ...) and command-line options
/// (--Store:DataDirectory=/data), in that order of precedence. With <c>Health:Port</c> set it is a web
/// host too, serving <see cref="OperationalEndpoints"/> on that port; without, it opens no HTTP port
/// (the silo that <c>prh sweep run</c> embeds).
/// </summary>
public static class SiloHost
{
    public static IHost Create(string[] args)
    {
        IHostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        AddPrhConfiguration(builder.Configuration, args);
        int port = OperationalEndpoints.Port(builder.Configuration);
        bool dashboard = builder.Configuration.GetValue<bool>("Dashboard:Enabled");
        if (port > 0)
        {
            // Which host to build depends on the configuration, so it was read first; a web host reads it again.
            ((IDisposable)builder.Configuration).Dispose();
            builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
            AddPrhConfiguration(builder.Configuration, args);
        }
        else if (dashboard)
            throw new InvalidOperationException("Dashboard:Enabled needs Health:Port: the dashboard is served by the silo's web host on that port");
        // Logs go to stderr: stdout belongs to the commands' results (prh sweep run --json embeds a silo).
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var cluster = builder.Configuration.GetSection("Cluster").Get<PrhClusterOptions>() ?? new PrhClusterOptions();
        var store = builder.Configuration.GetSection("Store").Get<BlobStoreOptions>() ?? new BlobStoreOptions();
        builder.Services.Configure<TileOptions>(builder.Configuration.GetSection("Tiles"));
        builder.UseOrleans(silo =>
        {
            Configure(silo, cluster, store);
            // Orleans' own knobs by their names, e.g. --Membership:ProbeTimeout=00:00:02, --Messaging:ResponseTimeout=00:00:10,
            // --Kubernetes:DeleteDefunctSiloPods=true.
            silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Membership"));
            silo.Configure<SiloMessagingOptions>(builder.Configuration.GetSection("Messaging"));
            silo.Configure<KubernetesHostingOptions>(builder.Configuration.GetSection("Kubernetes"));
            // Off by default: its grain call filter profiles every call.
            if (dashboard) silo.AddDashboard();
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(cluster.ShutdownTimeoutSeconds));
        string serviceName = Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? "prh-silo";
        builder.Services.AddPrhOpenTelemetry(serviceName, console: builder.Configuration.GetValue<bool>("Telemetry:Console"));
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddSecondsHistograms());
        if (builder is not WebApplicationBuilder web) return ((HostApplicationBuilder)builder).Build();
        web.AddOperationalEndpoints(port, serviceName);
        var app = web.Build();
        app.MapOperationalEndpoints(dashboard);
        return app;
    }

    private static void AddPrhConfiguration(IConfigurationBuilder configuration, string[] args)
    {
        configuration.AddEnvironmentVariables("PRH_");
        configuration.AddCommandLine(args);
    }

    public static void Configure(ISiloBuilder silo, PrhClusterOptions cluster, BlobStoreOptions store)
    {
        switch (cluster.Clustering.ToLowerInvariant())
        {
            case "localhost":
                if (cluster.Kubernetes)
                    throw new InvalidOperationException("Cluster:Kubernetes needs Cluster:Clustering=redis (membership stays in Redis; Kubernetes hosting only adds the " +
                        "pods' view)");
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                silo.UseInMemoryReminderService(); // one machine: reminders live as long as its silos do
                break;
            case "redis":
                if (string.IsNullOrWhiteSpace(cluster.RedisConnectionString))
                    throw new InvalidOperationException("Cluster:Clustering is redis but Cluster:RedisConnectionString is not set");
                silo.UseRedisClustering(cluster.RedisConnectionString);
                silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(cluster.RedisConnectionString));
                silo.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
                if (cluster.Kubernetes)
                {
                    // Orleans' own default (what the host name resolves to) comes before the package's POD_IP, so the
                    // pod's IP is given as the advertised address.
                    if (cluster.AdvertisedAddress is null)
                        throw new InvalidOperationException("Cluster:Kubernetes needs Cluster:AdvertisedAddress, the pod's IP (PRH_Cluster__AdvertisedAddress=$(POD_IP))");
                    // The pod's identity from the downward API (POD_NAME as the silo name, POD_NAMESPACE, every address
                    // bound, ORLEANS_CLUSTER_ID / ORLEANS_SERVICE_ID over Cluster:ClusterId / ServiceId), and the silos of
                    // deleted pods declared dead at once instead of after missed probes.
                    silo.UseKubernetesHosting();
                }
                silo.ConfigureEndpoints(
                    IPAddress.Parse(cluster.AdvertisedAddress ?? "127.0.0.1"), cluster.SiloPort, cluster.GatewayPort, listenOnAnyHostAddress: cluster.ListenOnAnyAddress);
                break;
            default:
                throw new InvalidOperationException($"Cluster:Clustering '{cluster.Clustering}' is not one of localhost, redis");
        }
        if (cluster.SiloName is { Length: > 0 } name) silo.Configure<SiloOptions>(o => o.SiloName = name);
        silo.UseSiloMetadata(cluster.Metadata); // placement reads it (accelerator=gpu), so every silo publishes its own
        silo.AddPrhGrains(store);
    }
}
