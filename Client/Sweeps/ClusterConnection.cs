using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Prh.Contracts;
using Prh.Grains.Telemetry;
using Prh.Silo;

namespace Prh.Client.Sweeps;

/// <summary>
/// A cluster client: either an embedded single silo in this process (the default: localhost
/// clustering on free loopback ports, file store under the data directory) or a connection to a
/// running cluster through its gateways.
/// </summary>
public sealed class ClusterConnection : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterConnection(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    /// <param name="traceConsole">Also print spans on the console (--trace-console).</param>
    /// <param name="options">More silo options, as on `prh silo`'s command line (--Tiles:MemoryBudget=...).</param>
    public static async Task<ClusterConnection> Embedded(string dataDirectory, bool traceConsole = false, params string[] options)
    {
        var host = SiloHost.Create(
        [
            $"--Cluster:SiloPort={FreePort()}", $"--Cluster:GatewayPort={FreePort()}",
            "--Store:Kind=file", $"--Store:DataDirectory={Path.GetFullPath(dataDirectory)}",
            $"--Telemetry:Console={traceConsole}",
            // The user's console shows the sweep's progress: Orleans' start-up notes (ServerGC, watchdog)
            // and the silo's own information lines stay out of it unless asked for.
            "--Logging:LogLevel:Orleans=Error", "--Logging:LogLevel:Prh=Warning",
            .. options,
        ]);
        await host.StartAsync();
        return new ClusterConnection(host);
    }

    /// <summary>
    /// Connects through gateways given as host:port (loopback by default), to the cluster and service ids the
    /// silos use: <c>ORLEANS_CLUSTER_ID</c> and <c>ORLEANS_SERVICE_ID</c> where set (as in a pod beside Kubernetes-hosted
    /// silos), <c>prh</c> otherwise.
    /// </summary>
    public static async Task<ClusterConnection> Remote(IReadOnlyList<string> gateways, bool traceConsole = false)
    {
        string clusterId = Environment.GetEnvironmentVariable("ORLEANS_CLUSTER_ID") is { Length: > 0 } cluster ? cluster : "prh";
        string serviceId = Environment.GetEnvironmentVariable("ORLEANS_SERVICE_ID") is { Length: > 0 } service ? service : "prh";
        var endpoints = gateways.Select(Parse).ToArray();
        var builder = Host.CreateApplicationBuilder();
        // Warnings only, and on stderr: stdout carries the commands' results (--json, csv).
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddPrhOpenTelemetry(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME") ?? "prh", traceConsole);
        builder.UseOrleansClient(client =>
        {
            client.AddActivityPropagation();
            client.UseStaticClustering(endpoints);
            client.Configure<Orleans.Configuration.ClusterOptions>(o => { o.ClusterId = clusterId; o.ServiceId = serviceId; });
        });
        var host = builder.Build();
        await host.StartAsync();
        return new ClusterConnection(host);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }

    private static IPEndPoint Parse(string gateway)
    {
        int colon = gateway.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(gateway[(colon + 1)..], out int port))
            throw new RefusalException($"--gateway '{gateway}' is not host:port");
        string host = gateway[..colon];
        var address = IPAddress.TryParse(host, out var ip) ? ip : Dns.GetHostAddresses(host).First(a => a.AddressFamily == AddressFamily.InterNetwork);
        return new IPEndPoint(address, port);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
