using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Prh.Client.Sweeps;

namespace Prh.Bench;

/// <summary>
/// The cluster a benchmark sweeps on: one silo embedded in this process, or silo processes on loopback
/// (`prh silo` with Redis clustering, redis-server started here) on one file store. Reports each silo's
/// peak resident memory (VmHWM) and, for processes, the phase counters from their /metrics.
/// </summary>
internal sealed class BenchCluster : IAsyncDisposable
{
    private readonly ClusterConnection _connection;
    private readonly List<(Process Process, int HealthPort)> _silos;
    private readonly Process? _redis;

    private BenchCluster(ClusterConnection connection, List<(Process, int)> silos, Process? redis) =>
        (_connection, _silos, _redis) = (connection, silos, redis);

    public IClusterClient Client => _connection.Client;

    public static async Task<BenchCluster> Start(int silos, string store, long? budget, string? prh)
    {
        string[] tiles = budget is { } b ? [$"--Tiles:MemoryBudget={b}"] : [];
        if (silos == 0) return new BenchCluster(await ClusterConnection.Embedded(store, options: tiles), [], null);
        prh ??= Path.Combine(AppContext.BaseDirectory, "prh");
        int redisPort = FreePort();
        var redis = Process.Start(Program("redis-server", ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--loglevel", "warning"]))!;
        await WaitForPort(redisPort);
        var processes = new List<(Process, int)>();
        var gateways = new List<string>();
        for (int s = 0; s < silos; s++)
        {
            int siloPort = FreePort(), gatewayPort = FreePort(), healthPort = FreePort();
            var silo = Process.Start(Program(prh, ["silo", "--Cluster:Clustering=redis", $"--Cluster:RedisConnectionString=127.0.0.1:{redisPort}",
                $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Health:Port={healthPort}",
                "--Store:Kind=file", $"--Store:DataDirectory={store}", .. tiles]))!;
            processes.Add((silo, healthPort));
            gateways.Add($"127.0.0.1:{gatewayPort}");
            await WaitForPort(gatewayPort);
        }
        return new BenchCluster(await ClusterConnection.Remote(gateways), processes, redis);
    }

    /// <summary>The largest peak resident set of the silos (this process for an embedded silo).</summary>
    public long PeakResidentBytes() => (_silos.Count == 0 ? [Environment.ProcessId] : _silos.Select(s => s.Process.Id)).Max(PeakResident);

    /// <summary>Starts the peak resident sets anew (Linux: clear_refs 5).</summary>
    public void ResetPeakResident()
    {
        foreach (int pid in _silos.Count == 0 ? [Environment.ProcessId] : _silos.Select(s => s.Process.Id))
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
    }

    /// <summary>The silo processes' phase seconds and kernel flops, summed (their /metrics).</summary>
    public async Task<IReadOnlyDictionary<string, double>> Phases()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var totals = new Dictionary<string, double>();
        foreach (var (_, port) in _silos)
            foreach (string line in (await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Split('\n'))
            {
                string? key = line.StartsWith("prh_phase_seconds_total{prh_phase=\"", StringComparison.Ordinal) ? line.Split('"')[1]
                    : line.StartsWith("prh_tile_kernel_flops_total", StringComparison.Ordinal) ? "kernel flops"
                    : line.StartsWith("prh_sketch_gram_flops_total", StringComparison.Ordinal) ? "gram flops" : null;
                if (key is not null) totals[key] = totals.GetValueOrDefault(key) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        return totals;
    }

    /// <summary>Each silo process's tiles scored and sketch jobs run (its /metrics): every silo should have taken a share.</summary>
    public async Task<IReadOnlyList<(double Tiles, double Sketches)>> WorkPerSilo()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var work = new List<(double, double)>();
        foreach (var (_, port) in _silos)
        {
            double tiles = 0, sketches = 0;
            foreach (string line in (await http.GetStringAsync($"http://127.0.0.1:{port}/metrics")).Split('\n'))
            {
                double value() => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
                if (line.StartsWith("prh_tiles_scored_total", StringComparison.Ordinal)) tiles += value();
                else if (line.StartsWith("prh_sketches_built_total", StringComparison.Ordinal)) sketches += value();
            }
            work.Add((tiles, sketches));
        }
        return work;
    }

    private static long PeakResident(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        foreach (var (process, _) in _silos)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
        _redis?.Kill();
    }

    private static ProcessStartInfo Program(string file, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = false, RedirectStandardError = true };
        foreach (string a in args) start.ArgumentList.Add(a);
        return start;
    }

    private static async Task WaitForPort(int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
