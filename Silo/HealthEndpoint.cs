using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Prh.Silo;

/// <summary>
/// Kubernetes probes over plain HTTP (configuration "Health:Port"; off when 0): <c>/healthz/live</c>
/// answers 200 while the process runs, <c>/healthz/ready</c> 200 only once the silo is an active member
/// of its cluster (503 before, while joining, and once it starts shutting down); <c>/metrics</c> this
/// silo's <see cref="PrometheusMetrics"/>.
/// </summary>
public sealed class HealthEndpoint(int port, Func<bool> ready, PrometheusMetrics metrics, ILogger<HealthEndpoint> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://+:{port}/");
        try
        {
            listener.Start();
        }
        catch (HttpListenerException)
        {
            // Binding every address may need privileges some hosts lack; loopback still serves local probes.
            listener.Prefixes.Clear();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
        }
        logger.LogInformation("health endpoint on port {Port}", port);
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception) when (stoppingToken.IsCancellationRequested) { break; }
            string path = context.Request.Url?.AbsolutePath ?? "";
            var (status, text) = path.TrimEnd('/') == "/metrics" ? (200, metrics.Text()) : Answer(path, ready());
            context.Response.StatusCode = status;
            await using (var body = context.Response.OutputStream)
                await body.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text + "\n"), stoppingToken);
        }
    }

    /// <summary>The probe's answer for a path, given whether the silo has joined.</summary>
    public static (int Status, string Text) Answer(string path, bool joined) => path.TrimEnd('/') switch
    {
        "/healthz/live" => (200, "live"),
        "/healthz/ready" => joined ? (200, "ready") : (503, "not joined"),
        _ => (404, "unknown path; use /healthz/live, /healthz/ready or /metrics"),
    };
}
