using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Hosting.Kubernetes;
using Prh.Silo;
using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;

namespace Prh.Cluster.Tests.Operate;

/// <summary>How the silo host is put together from its configuration: its probes, the settings it refuses, Kubernetes hosting.</summary>
public sealed class SiloHostTests
{
    [Fact]
    public async Task A_silo_process_answers_its_probes_once_started_without_a_dashboard_by_default()
    {
        int siloPort = FreePort(), gatewayPort = FreePort(), healthPort = FreePort();
        string data = Directory.CreateTempSubdirectory("prh-health-").FullName;
        try
        {
            await using var silo = new Background(PrhProcess.StartInfo(["silo", $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
                $"--Health:Port={healthPort}", $"--Store:DataDirectory={data}"]));
            await silo.WaitForPort(healthPort);
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            foreach (string probe in new[] { "/healthz/live", "/healthz/ready" })
            {
                using var answer = await http.GetAsync($"http://127.0.0.1:{healthPort}{probe}");
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
                Assert.Equal("Healthy", await answer.Content.ReadAsStringAsync());
            }
            using var dashboard = await http.GetAsync($"http://127.0.0.1:{healthPort}{OperationalEndpoints.DashboardPath}/");
            Assert.Equal(HttpStatusCode.NotFound, dashboard.StatusCode);
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public async Task Ready_answers_503_once_the_silo_leaves_its_cluster_while_live_stays_200()
    {
        string data = Directory.CreateTempSubdirectory("prh-leaving-").FullName;
        try
        {
            // A port found free can be taken by a test running beside this one before the host binds it: then fresh ports.
            int healthPort = 0;
            IHost? started = null;
            for (int attempt = 1; started is null; attempt++)
            {
                healthPort = FreePort();
                var candidate = SiloHost.Create([$"--Cluster:SiloPort={FreePort()}", $"--Cluster:GatewayPort={FreePort()}",
                    $"--Health:Port={healthPort}", $"--Store:DataDirectory={data}", "--Logging:LogLevel:Default=Error"]);
                try
                {
                    await candidate.StartAsync();
                    started = candidate;
                }
                catch (Exception e) when (attempt < 3 && e.GetBaseException() is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
                {
                    candidate.Dispose();
                }
            }
            using var host = started!;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            async Task<(HttpStatusCode, string)> Probe(string path)
            {
                using var answer = await http.GetAsync($"http://127.0.0.1:{healthPort}{path}");
                return (answer.StatusCode, await answer.Content.ReadAsStringAsync());
            }
            Assert.Equal((HttpStatusCode.OK, "Healthy"), await Probe("/healthz/ready"));

            // The silo leaves (as when it shuts down or is declared dead) while the web host still answers.
            await host.Services.GetRequiredService<Orleans.Runtime.Silo>().StopAsync(CancellationToken.None);
            Assert.Equal((HttpStatusCode.ServiceUnavailable, "Unhealthy"), await Probe("/healthz/ready"));
            Assert.Equal((HttpStatusCode.OK, "Healthy"), await Probe("/healthz/live"));
            await host.StopAsync();
        }
        finally
        {
            Directory.Delete(data, recursive: true);
        }
    }

    [Theory]
    [InlineData("Dashboard:Enabled needs Health:Port", "--Dashboard:Enabled=true")]
    [InlineData("Health:Port 70000 is not a TCP port", "--Health:Port=70000")]
    [InlineData("Cluster:Kubernetes needs Cluster:Clustering=redis", "--Cluster:Kubernetes=true")]
    [InlineData("Cluster:Kubernetes needs Cluster:AdvertisedAddress", "--Cluster:Kubernetes=true", "--Cluster:Clustering=redis", "--Cluster:RedisConnectionString=127.0.0.1:1")]
    public void Bad_operational_settings_are_refused_with_what_to_change(string message, params string[] args)
    {
        var error = Assert.Throws<InvalidOperationException>(() => SiloHost.Create(args));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Kubernetes_hosting_takes_the_silos_identity_from_the_pods_variables()
    {
        // What the manifests in k8s/ give a silo pod (downward API), as Microsoft.Orleans.Hosting.Kubernetes reads it.
        var pod = new Dictionary<string, string>
        {
            ["POD_NAME"] = "prh-silo-cpu-7d9f-x2x",
            ["POD_NAMESPACE"] = "prh",
            ["ORLEANS_CLUSTER_ID"] = "prh-production",
            ["ORLEANS_SERVICE_ID"] = "prh",
        };
        foreach (var (name, value) in pod) Environment.SetEnvironmentVariable(name, value);
        try
        {
            using var host = SiloHost.Create(["--Cluster:Clustering=redis", "--Cluster:RedisConnectionString=127.0.0.1:1", "--Cluster:Kubernetes=true",
                "--Cluster:AdvertisedAddress=10.1.2.3", "--Cluster:SiloPort=11111", "--Cluster:GatewayPort=30000", "--Kubernetes:DeleteDefunctSiloPods=true"]);
            T Options<T>() where T : class => host.Services.GetRequiredService<IOptions<T>>().Value;
            Assert.Equal("prh-silo-cpu-7d9f-x2x", Options<SiloOptions>().SiloName);
            var endpoints = Options<EndpointOptions>();
            Assert.Equal(IPAddress.Parse("10.1.2.3"), endpoints.AdvertisedIPAddress);
            Assert.Equal((11111, 30000), (endpoints.SiloPort, endpoints.GatewayPort));
            Assert.Equal(new IPEndPoint(IPAddress.Any, 11111), endpoints.SiloListeningEndpoint);
            Assert.Equal(new IPEndPoint(IPAddress.Any, 30000), endpoints.GatewayListeningEndpoint);
            Assert.Equal(("prh-production", "prh"), (Options<ClusterOptions>().ClusterId, Options<ClusterOptions>().ServiceId));
            Assert.True(Options<KubernetesHostingOptions>().DeleteDefunctSiloPods); // also validated: namespace set, silo name = pod name
        }
        finally
        {
            foreach (string name in pod.Keys) Environment.SetEnvironmentVariable(name, null);
        }
    }
}
