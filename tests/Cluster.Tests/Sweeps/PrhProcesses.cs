using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>The built <c>prh</c> (and other programs) as real processes on loopback, bounded in time.</summary>
public static class PrhProcesses
{
    public static ProcessStartInfo PrhProcess(IEnumerable<string> args) => Program("dotnet", [Path.Combine(AppContext.BaseDirectory, "prh.dll"), .. args]);

    public static ProcessStartInfo Program(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>Runs prh to completion (3 minutes at most).</summary>
    public static (int Exit, string Stdout, string Stderr) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs prh with extra environment variables.</summary>
    public static (int Exit, string Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = PrhProcess(args);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var p = Process.Start(start)!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException($"prh {string.Join(' ', args)} did not finish"); }
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>A long-running process (a silo, a server) whose output is drained; killed with its tree on dispose.</summary>
    public sealed class Background : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stdout, _stderr;

        public Background(ProcessStartInfo start)
        {
            _process = Process.Start(start)!;
            _stdout = _process.StandardOutput.ReadToEndAsync();
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        public bool HasExited => _process.HasExited;

        /// <summary>SIGKILL: the process dies at once, without any shutdown.</summary>
        public void Kill() => _process.Kill(entireProcessTree: true);

        public async Task WaitForPort(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}: {await _stderr}");
                try
                {
                    using var client = new TcpClient();
                    await client.ConnectAsync(IPAddress.Loopback, port);
                    return;
                }
                catch (SocketException)
                {
                    await Task.Delay(200);
                }
            }
            throw new TimeoutException($"nothing listening on port {port} after 60 s");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            await Task.WhenAll(_stdout, _stderr);
            _process.Dispose();
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A real cluster on loopback: Debian's redis-server for membership and <paramref name="silos"/>
    /// <c>prh silo</c> processes on a shared file store under <paramref name="folder"/>.
    /// </summary>
    public sealed class RedisCluster : IAsyncDisposable
    {
        private readonly Background _redis;

        private RedisCluster(Background redis) => _redis = redis;

        public List<Background> Silos { get; } = [];
        public List<string> Gateways { get; } = [];

        public static async Task<RedisCluster> Start(string folder, int silos, params string[] siloOptions)
        {
            int redisPort = FreePort();
            var cluster = new RedisCluster(new Background(Program("redis-server",
                ["--port", redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder])));
            try
            {
                await cluster._redis.WaitForPort(redisPort);
                for (int i = 0; i < silos; i++)
                {
                    int siloPort = FreePort(), gatewayPort = FreePort();
                    cluster.Silos.Add(new Background(PrhProcess(["silo", "--Cluster:Clustering=redis", $"--Cluster:RedisConnectionString=127.0.0.1:{redisPort}",
                        $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Store:DataDirectory={Path.Combine(folder, "data")}",
                        .. siloOptions])));
                    await cluster.Silos[^1].WaitForPort(gatewayPort);
                    cluster.Gateways.Add($"127.0.0.1:{gatewayPort}");
                }
                return cluster;
            }
            catch
            {
                await cluster.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var silo in Silos) await silo.DisposeAsync();
            await _redis.DisposeAsync();
        }
    }

    /// <summary>A sweep spec file for the given fixture models and metrics.</summary>
    public static string WriteSpec(string folder, string name, IEnumerable<string> models, IEnumerable<(string Metric, int? TopK)> metrics)
    {
        string spec = Path.Combine(folder, $"{name}.yaml");
        File.WriteAllLines(spec, ["name: " + name, "dataset: fixtures", "models:",
            .. models.SelectMany(m => new[] { $"  - id: {m}", $"    features: {SweepTests.FileOf(m)}" }),
            "metrics:",
            .. metrics.SelectMany(m => m.TopK is { } k ? new[] { $"  - name: {m.Metric}", $"    topk: {k}" } : [$"  - name: {m.Metric}"])]);
        return spec;
    }
}
