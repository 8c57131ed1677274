using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService.SiloMetadata;
using Prh.Grains;
using Prh.Grains.Aggregation;
using Prh.Grains.Storage;
using Prh.Grains.Telemetry;

namespace Prh.Silo;

/// <summary>
/// The silo host: configuration from appsettings.json, PRH_-prefixed environment variables
/// (PRH_Store__Kind=blob, PRH_Cluster__Clustering=redis, ...) and command-line options
/// (--Store:DataDirectory=/data), in that order of precedence.
/// </summary>
public static class SiloHost
{
    public static IHost Create(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddEnvironmentVariables("PRH_");
        builder.Configuration.AddCommandLine(args);
        configure?.Invoke(builder.Configuration);
        // Logs go to stderr: stdout belongs to the commands' results (prh sweep run --json embeds a silo).
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        var cluster = builder.Configuration.GetSection("Cluster").Get<PrhClusterOptions>() ?? new PrhClusterOptions();
        var store = builder.Configuration.GetSection("Store").Get<BlobStoreOptions>() ?? new BlobStoreOptions();
        builder.Services.Configure<TileOptions>(builder.Configuration.GetSection("Tiles"));
        builder.UseOrleans(silo =>
        {
            Configure(silo, cluster, store);
            // Orleans' own knobs by their names, e.g. --Membership:ProbeTimeout=00:00:02, --Messaging:ResponseTimeout=00:00:10.
            silo.Configure<ClusterMembershipOptions>(builder.Configuration.GetSection("Membership"));
            silo.Configure<SiloMessagingOptions>(builder.Configuration.GetSection("Messaging"));
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(cluster.ShutdownTimeoutSeconds));
        builder.Services.AddPrhOpenTelemetry(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? "prh-silo",
            console: builder.Configuration.GetValue<bool>("Telemetry:Console"));
        int healthPort = builder.Configuration.GetValue<int>("Health:Port");
        if (healthPort > 0)
        {
            builder.Services.AddSingleton<PrometheusMetrics>();
            builder.Services.AddHostedService(sp => new HealthEndpoint(healthPort,
                () => sp.GetRequiredService<Orleans.Runtime.ISiloStatusOracle>().CurrentStatus == Orleans.Runtime.SiloStatus.Active,
                sp.GetRequiredService<PrometheusMetrics>(), sp.GetRequiredService<ILogger<HealthEndpoint>>()));
        }
        return builder.Build();
    }

    public static void Configure(ISiloBuilder silo, PrhClusterOptions cluster, BlobStoreOptions store)
    {
        switch (cluster.Clustering.ToLowerInvariant())
        {
            case "localhost":
                silo.UseLocalhostClustering(cluster.SiloPort, cluster.GatewayPort, serviceId: cluster.ServiceId, clusterId: cluster.ClusterId);
                silo.UseInMemoryReminderService(); // one machine: reminders live as long as its silos do
                break;
            case "redis":
                if (string.IsNullOrWhiteSpace(cluster.RedisConnectionString))
                    throw new InvalidOperationException("Cluster:Clustering is redis but Cluster:RedisConnectionString is not set");
                silo.UseRedisClustering(cluster.RedisConnectionString);
                silo.UseRedisReminderService(o => o.ConfigurationOptions = StackExchange.Redis.ConfigurationOptions.Parse(cluster.RedisConnectionString));
                silo.Configure<ClusterOptions>(o => { o.ClusterId = cluster.ClusterId; o.ServiceId = cluster.ServiceId; });
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
