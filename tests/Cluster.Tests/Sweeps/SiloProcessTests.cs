using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Prh.Alignment.IO;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>
/// A real silo process (<c>prh silo</c>) on loopback, driven by <c>prh sweep submit, watch, status,
/// results, plot</c> from other processes, as a user would.
/// </summary>
public sealed class SiloProcessTests
{
    private static ProcessStartInfo Prh(IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "prh.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        using var p = Process.Start(Prh(args))!;
        var stderr = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException($"prh {string.Join(' ', args)}"); }
        return (p.ExitCode, stdout, stderr.Result);
    }

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Submit_watch_status_results_and_plot_against_a_silo_process()
    {
        string folder = Directory.CreateTempSubdirectory("prh-silo-proc-").FullName;
        int siloPort = FreePort(), gatewayPort = FreePort();
        using var silo = Process.Start(Prh(["silo", $"--Cluster:SiloPort={siloPort}", $"--Cluster:GatewayPort={gatewayPort}",
            "--Store:Kind=file", $"--Store:DataDirectory={Path.Combine(folder, "data")}"]))!;
        var siloOutput = silo.StandardOutput.ReadToEndAsync();
        var siloErrors = silo.StandardError.ReadToEndAsync();
        try
        {
            await WaitForPort(gatewayPort, silo);
            string gateway = $"127.0.0.1:{gatewayPort}";
            var models = SweepTests.VisionModels().Take(2).ToList();
            string spec = Path.Combine(folder, "s.yaml");
            File.WriteAllLines(spec, ["name: remote", "dataset: fixtures", "models:",
                .. models.SelectMany(m => new[] { $"  - id: {m}", $"    features: {SweepTests.FileOf(m)}" }),
                "metrics:", "  - name: mutual_knn", "    topk: 10", "  - name: cka"]);

            var submit = Run("sweep", "submit", spec, "--gateway", gateway);
            Assert.True(submit.Exit == 0, submit.Stderr);
            Assert.Equal("remote", submit.Stdout.Trim());

            var watch = Run("sweep", "watch", "remote", "--gateway", gateway);
            Assert.True(watch.Exit == 0, watch.Stderr + watch.Stdout);
            Assert.Contains("completed", watch.Stdout);

            var status = Run("sweep", "status", "remote", "--gateway", gateway, "--json");
            Assert.True(status.Exit == 0, status.Stderr);
            var json = JsonDocument.Parse(status.Stdout).RootElement;
            Assert.Equal("completed", json.GetProperty("phase").GetString());
            Assert.True(json.GetProperty("layer_pairs_scored").GetInt64() > 0);

            var csv = Run("sweep", "results", "remote", "--gateway", gateway, "--metric", "cka", "--format", "csv");
            Assert.True(csv.Exit == 0, csv.Stderr);
            Assert.StartsWith($"model,{models[0]},{models[1]}", csv.Stdout);

            string npy = Path.Combine(folder, "knn.npy");
            var saved = Run("sweep", "results", "remote", "--gateway", gateway, "--metric", "mutual_knn@10", "--format", "npy", "--out", npy);
            Assert.True(saved.Exit == 0, saved.Stderr);
            var matrix = NpyFile.Read(npy);
            Assert.Equal([2, 2], matrix.Shape);
            Assert.Equal(matrix.Values[1], matrix.Values[2]); // mutual_knn is symmetric

            string png = Path.Combine(folder, "cka.png");
            var plot = Run("sweep", "plot", "remote", "--gateway", gateway, "--metric", "cka", "--out", png);
            Assert.True(plot.Exit == 0, plot.Stderr);
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, File.ReadAllBytes(png).Take(4));

            var unknown = Run("sweep", "results", "remote", "--gateway", gateway, "--metric", "svcca");
            Assert.NotEqual(0, unknown.Exit);
            Assert.Contains("has no metric 'svcca'", unknown.Stderr);
        }
        finally
        {
            silo.Kill(entireProcessTree: true);
            await silo.WaitForExitAsync();
            _ = await siloOutput;
            _ = await siloErrors;
        }
    }

    private static async Task WaitForPort(int port, Process silo)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (silo.HasExited) throw new InvalidOperationException($"the silo exited with {silo.ExitCode}");
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
        throw new TimeoutException($"no gateway on port {port} after 60 s");
    }
}
