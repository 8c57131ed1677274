using System.Globalization;
using Azure.Storage.Blobs;
using Prh.Cluster.Tests.Storage;
using Prh.TestSupport;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;

namespace Prh.Cluster.Tests.Reliability;

/// <summary>
/// A real cluster on loopback, every part its own process: Debian's redis-server for membership, the
/// blob store on Azurite (installed by the test command; or a file store under the folder) and
/// <c>prh silo</c> processes, each with its health endpoint (and /metrics). Parts can be killed,
/// stopped and started again, as the reliability tests need; everything is killed on dispose.
/// </summary>
public sealed class LoopbackCluster : IAsyncDisposable
{
    // Quick failure detection, so a killed silo is declared dead within seconds, and silos that stopped
    // heartbeating 10 s ago are not waited for by joining silos (after every silo was killed).
    public static readonly string[] FastFailureDetection =
        ["--Membership:ProbeTimeout=00:00:01", "--Membership:NumMissedProbesLimit=2", "--Membership:NumVotesForDeathDeclaration=1",
         "--Membership:IAmAliveTablePublishTimeout=00:00:05", "--Messaging:ResponseTimeout=00:00:10"];

    /// <summary>A tile memory budget that gives the fixtures' models a block each: sweeps of many tiles, which a fault can land in the middle of.</summary>
    public static readonly string OneModelBlocks = $"--Tiles:MemoryBudget={Sweeps.TestClusters.OneModelBlocks}";

    private readonly string _folder;
    private readonly int _redisPort = FreePort();
    private readonly int _azuritePort = FreePort();
    private readonly bool _azurite;
    private readonly string[] _siloOptions;
    private readonly List<Background> _stopped = [];
    private Background? _redis, _store;

    private LoopbackCluster(string folder, bool azurite, string[] siloOptions) => (_folder, _azurite, _siloOptions) = (folder, azurite, siloOptions);

    public sealed record Silo(Background Process, string Gateway, int HealthPort);

    public List<Silo> Silos { get; } = [];

    public IReadOnlyList<string> Gateways => Silos.Where(s => !s.Process.HasExited).Select(s => s.Gateway).ToList();

    public string StoreConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AzuriteFixture.AccountName};AccountKey={AzuriteFixture.AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{_azuritePort}/{AzuriteFixture.AccountName};";

    public BlobContainerClient Container => new(StoreConnectionString, "prh");

    public static async Task<LoopbackCluster> Start(string folder, int silos, bool azurite, params string[] siloOptions)
    {
        var cluster = new LoopbackCluster(folder, azurite, siloOptions);
        try
        {
            cluster._redis = new Background(PrhProcess.Program("redis-server",
                ["--port", cluster._redisPort.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder]));
            await cluster._redis.WaitForPort(cluster._redisPort);
            if (azurite) await cluster.StartStore();
            for (int i = 0; i < silos; i++) await cluster.AddSilo();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts Azurite on the cluster's port and data folder (again, after <see cref="StopStore"/>).</summary>
    public async Task StartStore()
    {
        string azurite = Path.Combine(AzuriteFixture.FindRepositoryRoot(), ".tools", "node_modules", ".bin", "azurite-blob");
        if (!File.Exists(azurite)) throw new InvalidOperationException($"{azurite} is missing; scripts/test.sh installs Azurite under .tools/");
        _store = new Background(PrhProcess.Program(azurite, ["--blobHost", "127.0.0.1", "--blobPort", _azuritePort.ToString(), "--location", Path.Combine(_folder, "azurite"),
            "--skipApiVersionCheck", "--disableTelemetry"]));
        await _store.WaitForPort(_azuritePort);
    }

    /// <summary>Stops Azurite the way an operator would (SIGTERM: it saves its metadata and closes).</summary>
    public async Task StopStore()
    {
        await _store!.Terminate();
        _stopped.Add(_store);
        _store = null;
    }

    public async Task<Silo> AddSilo(params string[] extra)
    {
        int siloPort = FreePort(), gatewayPort = FreePort(), healthPort = FreePort();
        string[] store = _azurite
            ? ["--Store:Kind=blob", $"--Store:BlobConnectionString={StoreConnectionString}"]
            : ["--Store:Kind=file", $"--Store:DataDirectory={Path.Combine(_folder, "data")}"];
        var process = new Background(PrhProcess.StartInfo(["silo", "--Cluster:Clustering=redis", $"--Cluster:RedisConnectionString=127.0.0.1:{_redisPort}",
            $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}", $"--Health:Port={healthPort}", .. store, .. _siloOptions, .. extra]));
        var silo = new Silo(process, $"127.0.0.1:{gatewayPort}", healthPort);
        Silos.Add(silo);
        await process.WaitForPort(gatewayPort);
        return silo;
    }

    /// <summary>SIGKILL to every silo at once; returns when they are gone.</summary>
    public void KillAllSilos()
    {
        var running = Silos.Where(s => !s.Process.HasExited).ToList();
        foreach (var silo in running) silo.Process.Kill();
        foreach (var silo in running) silo.Process.WaitForExit();
    }

    /// <summary>The sum over the running silos of a series of their /metrics (all label sets), e.g. prh_pairs_scored_total.</summary>
    public async Task<double> Metric(string name)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        double sum = 0;
        foreach (var silo in Silos.Where(s => !s.Process.HasExited))
            foreach (string line in (await http.GetStringAsync($"http://127.0.0.1:{silo.HealthPort}/metrics")).Split('\n'))
                if (line.StartsWith(name + "{", StringComparison.Ordinal) || line.StartsWith(name + " ", StringComparison.Ordinal))
                    sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
        return sum;
    }

    /// <summary>Every running silo answers /healthz/ready with 200.</summary>
    public async Task<bool> AllReady()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var silo in Silos.Where(s => !s.Process.HasExited))
            if ((await http.GetAsync($"http://127.0.0.1:{silo.HealthPort}/healthz/ready")).StatusCode != System.Net.HttpStatusCode.OK) return false;
        return true;
    }

    /// <summary>All output of every process so far (silos, store, redis), for checks that nothing leaks.</summary>
    public string Output() => string.Join("\n", Silos.Select(s => s.Process.Output).Concat(_stopped.Concat([_store, _redis]).OfType<Background>().Select(b => b.Output)));

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in Silos) await silo.Process.DisposeAsync();
        if (_store is not null) await _store.DisposeAsync();
        foreach (var stopped in _stopped) await stopped.DisposeAsync();
        if (_redis is not null) await _redis.DisposeAsync();
    }
}
