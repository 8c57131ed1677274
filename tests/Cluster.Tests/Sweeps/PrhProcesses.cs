using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>Long-running processes (silos, redis, Azurite) on loopback, and the spec files prh reads; prh itself runs through <see cref="Prh.TestSupport.PrhProcess"/>.</summary>
public static class PrhProcesses
{
    /// <summary>A long-running process (a silo, a server) whose output is collected as it comes; killed with its tree on dispose.</summary>
    public sealed class Background : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public Background(ProcessStartInfo start)
        {
            _process = new Process { StartInfo = start };
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.Start();
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public bool HasExited => _process.HasExited;

        /// <summary>Everything it wrote so far, stdout and stderr interleaved.</summary>
        public string Output { get { lock (_output) return _output.ToString(); } }

        private void Append(string? line)
        {
            if (line is null) return;
            lock (_output) _output.AppendLine(line);
        }

        /// <summary>SIGKILL: the process dies at once, without any shutdown.</summary>
        public void Kill() => _process.Kill(entireProcessTree: true);

        public void WaitForExit() => _process.WaitForExit();

        /// <summary>SIGTERM, then waits for it to exit (SIGKILL after 20 s).</summary>
        public async Task Terminate()
        {
            if (_process.HasExited) return;
            using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
            using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await _process.WaitForExitAsync(patience.Token); }
            catch (OperationCanceledException) { Kill(); await _process.WaitForExitAsync(); }
        }

        public async Task WaitForPort(int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < deadline)
            {
                if (_process.HasExited)
                    throw new InvalidOperationException($"{_process.StartInfo.FileName} exited with {_process.ExitCode}: {Output}");
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
            throw new TimeoutException($"nothing listening on port {port} after 60 s: {Output}");
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.WaitForExit(); // drains the redirected output
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
    /// <paramref name="count"/> ports, each the first of <paramref name="span"/> consecutive free ports, no two runs
    /// overlapping: for a script that gives silo i the port base + i, where a free port says nothing of the ports after
    /// it (ports the system hands out one after another made silo 1's port silo 0's gateway).
    /// </summary>
    public static int[] FreePortRuns(int count, int span)
    {
        var taken = new HashSet<int>();
        var starts = new List<int>();
        while (starts.Count < count)
        {
            int first = FreePort();
            var run = Enumerable.Range(first, span).ToList();
            if (first + span > IPEndPoint.MaxPort || run.Any(taken.Contains) || !run.Skip(1).All(IsFree)) continue;
            starts.Add(first);
            taken.UnionWith(run);
        }
        return [.. starts];
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
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
