using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Prh.Cluster.Tests.Sweeps;
using Prh.Grains.Aggregation;
using Prh.Grains.Sweeps;
using Prh.Grains.Telemetry;
using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;

namespace Prh.Cluster.Tests.Operate;


/// <summary>A <c>prh silo</c> process with its operational endpoints and the Orleans Dashboard on, after a small sweep through its gateway.</summary>
public sealed class SweptSilo : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("prh-operate-").FullName;
    private readonly int _gatewayPort = FreePort();
    private Background? _silo;

    public int HealthPort { get; } = FreePort();

    /// <summary>The layer pairs the sweep's aggregator scored (prh sweep status).</summary>
    public long LayerPairsScored { get; private set; }

    public string Url(string path) => $"http://127.0.0.1:{HealthPort}{path}";

    public async Task InitializeAsync()
    {
        _silo = new Background(PrhProcess.StartInfo(["silo", $"--Cluster:SiloPort={FreePort()}", $"--Cluster:GatewayPort={_gatewayPort}",
            $"--Health:Port={HealthPort}", "--Dashboard:Enabled=true", "--Store:Kind=file", $"--Store:DataDirectory={Path.Combine(_folder, "data")}"]));
        await _silo.WaitForPort(_gatewayPort);
        string gateway = $"127.0.0.1:{_gatewayPort}";
        string spec = WriteSpec(_folder, "operate", SweepTests.VisionModels().Take(2), [("cka", null)]);
        var run = PrhProcess.Run("sweep", "run", spec, "--json", "--cluster", gateway);
        if (run.ExitCode != 0) throw new InvalidOperationException($"prh sweep run failed: {run.Stderr}\n{_silo.Output}");
        var status = PrhProcess.Run("sweep", "status", "operate", "--cluster", gateway, "--json");
        if (status.ExitCode != 0) throw new InvalidOperationException($"prh sweep status failed: {status.Stderr}");
        LayerPairsScored = JsonDocument.Parse(status.Stdout).RootElement.GetProperty("layer_pairs_scored").GetInt64();
    }

    public async Task DisposeAsync()
    {
        if (_silo is not null) await _silo.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>
/// What operators read from a silo process over HTTP: Prometheus metrics that promtool accepts and the
/// Orleans Dashboard as a browser renders it (Debian's promtool and headless Chromium,
/// both installed by scripts/deps.sh).
/// </summary>
public sealed class OperationalEndpointsTests(SweptSilo silo) : IClassFixture<SweptSilo>
{
    [Fact]
    public async Task Metrics_after_a_sweep_pass_promtool_with_types_help_and_histogram_buckets()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var response = await http.GetAsync(silo.Url("/metrics"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var type = response.Content.Headers.ContentType!;
        Assert.Equal("text/plain", type.MediaType);
        Assert.Contains(type.Parameters, p => p.Name == "version" && p.Value == "0.0.4");
        string text = await response.Content.ReadAsStringAsync();

        var (exit, output) = Promtool(text);
        Assert.True(exit == 0, $"promtool check metrics exited with {exit}:\n{output}\n--- /metrics:\n{text}");

        var lines = text.Split('\n');
        Assert.Contains("# TYPE prh_layer_pairs_scored_total counter", lines);
        Assert.Contains($"# HELP prh_layer_pairs_scored_total {PrhTelemetry.LayerPairsScored.Description}", lines);
        Assert.True(silo.LayerPairsScored > 0);
        Assert.Contains($"prh_layer_pairs_scored_total{{prh_metric=\"cka\"}} {silo.LayerPairsScored}", lines);

        // Tile durations as a histogram in seconds: cumulative buckets ending in +Inf, which counts every tile scored.
        Assert.Contains("# TYPE prh_tile_duration_seconds histogram", lines);
        var buckets = lines.Where(l => l.StartsWith("prh_tile_duration_seconds_bucket{", StringComparison.Ordinal)).ToList();
        Assert.True(buckets.Count > 2, string.Join("\n", buckets));
        var counts = buckets.Select(Value).ToList();
        Assert.Equal(counts.Order(), counts);
        Assert.EndsWith("le=\"+Inf\"} " + counts[^1].ToString(CultureInfo.InvariantCulture), buckets[^1]);
        double tiles = Value(lines.Single(l => l.StartsWith("prh_tiles_scored_total", StringComparison.Ordinal)));
        Assert.True(tiles > 0);
        Assert.Equal(tiles, counts[^1]);
        Assert.Equal(tiles, Value(lines.Single(l => l.StartsWith("prh_tile_duration_seconds_count", StringComparison.Ordinal))));
    }

    [Fact]
    public async Task The_dashboard_in_a_browser_lists_the_sweeps_grains()
    {
        string dom = await Chromium(silo.Url("/dashboard/#/grains"));
        foreach (var grain in new[] { typeof(SweepGrain), typeof(AggregatorGrain) })
        {
            Assert.Contains($"title=\"{grain.FullName}\"", dom);
            Assert.Contains($">{grain.Name}</a>", dom);
        }
    }

    private static double Value(string line) => double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);

    /// <summary>Debian's promtool (package prometheus) linting a scrape: its exit code and what it printed.</summary>
    private static (int Exit, string Output) Promtool(string metrics)
    {
        string promtool = OnPath("promtool") ?? throw new InvalidOperationException(
            "promtool is not installed: scripts/deps.sh installs it (Debian package prometheus)");
        var start = PrhProcess.Program(promtool, ["check", "metrics"]);
        start.RedirectStandardInput = true;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardInput.Write(metrics);
        process.StandardInput.Close();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1))) { process.Kill(); throw new TimeoutException("promtool check metrics did not finish in a minute"); }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>
    /// The page's DOM once its scripts ran for a few (virtual) seconds, in headless Debian Chromium with a fresh
    /// profile and nothing of its own on the network (the flags keep it to the page's requests).
    /// </summary>
    private static async Task<string> Chromium(string url)
    {
        const string chromium = "/usr/bin/chromium";
        if (!File.Exists(chromium)) throw new InvalidOperationException($"{chromium} is missing: scripts/deps.sh installs it (Debian package chromium)");
        string profile = Directory.CreateTempSubdirectory("prh-chromium-").FullName;
        try
        {
            var start = PrhProcess.Program(chromium, ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--user-data-dir={profile}",
                "--virtual-time-budget=10000", "--dump-dom", url]);
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var dom = process.StandardOutput.ReadToEndAsync();
            using var patience = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try { await process.WaitForExitAsync(patience.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"chromium did not render {url} in 2 minutes"); }
            Assert.True(process.ExitCode == 0, $"chromium exited with {process.ExitCode}: {await stderr}");
            return await dom;
        }
        finally
        {
            Directory.Delete(profile, recursive: true);
        }
    }

    private static string? OnPath(string program) => (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
}
