using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Orleans.TestingHost;
using Prh.Cluster.Tests.Sweeps;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.Grains;
using Prh.Grains.Telemetry;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Telemetry;

/// <summary>One sweep, one trace: from the submitter through every silo and phase; OTLP export.</summary>
public sealed class TracingTests
{
    [Fact]
    public async Task A_sweep_on_three_silos_is_one_trace_covering_every_silo_and_phase()
    {
        var exported = new List<Activity>();
        var builder = new InProcessTestClusterBuilder(3);
        var store = TestClusters.FileStore();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.Configure<Prh.Grains.Aggregation.TileOptions>(o => o.MemoryBudget = TestClusters.OneModelBlocks); // many tiles, on every silo
            silo.AddPrhGrains(store);
        });
        builder.ConfigureSiloHost((_, host) => host.Services.AddPrhOpenTelemetry("prh-test", tracing: t => t.AddInMemoryExporter(exported)));
        builder.ConfigureClient(client => client.AddActivityPropagation());
        var cluster = builder.Build();
        await cluster.DeployAsync();
        ActivityTraceId trace;
        SweepStatus status;
        try
        {
            using (var root = PrhTelemetry.Source.StartActivity("test.sweep", ActivityKind.Client))
            {
                Assert.NotNull(root);
                trace = root.TraceId;
                var models = SweepTests.AllModels();
                var sweep = cluster.Client.GetGrain<ISweepGrain>("traced");
                await sweep.SubmitAsync(SweepTests.Definition("traced", "fixtures", models));
                status = await SweepTests.Finish(sweep);
            }
            Assert.Equal(SweepPhase.Completed, status.Phase);
            Assert.Equal(trace.ToHexString(), status.TraceId);
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        // The source is process-wide, so sweeps of tests running beside this one are exported too:
        // this sweep's spans are those tagged with its id (all in the one trace) and those in its trace.
        List<Activity> all;
        lock (exported) all = exported.Where(a => a.Source.Name == PrhTelemetry.Name).DistinctBy(a => a.SpanId).ToList();
        Assert.All(all.Where(s => Equals(s.GetTagItem("prh.sweep"), "traced")), s => Assert.Equal(trace, s.TraceId));
        var spans = all.Where(s => s.TraceId == trace).ToList();
        foreach (string phase in new[] { "prh.sweep.import", "prh.model.import", "prh.sweep.score", "prh.tile", "prh.sketch.build", "prh.store.put", "prh.store.get" })
            Assert.Contains(spans, s => s.OperationName == phase);
        var tiles = spans.Where(s => s.OperationName == "prh.tile").ToList();
        Assert.All(tiles, t =>
        {
            Assert.NotNull(t.GetTagItem("prh.metrics"));
            Assert.StartsWith("cpu", (string)t.GetTagItem("prh.backend")!);
            Assert.True((long)t.GetTagItem("prh.layer_pairs")! > 0);
        });
        Assert.Equal(3, tiles.Select(t => t.GetTagItem("prh.silo")).Distinct().Count());
        Assert.All(spans.Where(s => s.OperationName.StartsWith("prh.store.")), s => Assert.NotNull(s.GetTagItem("prh.bytes")));
    }

    [Fact]
    public async Task Sweep_run_delivers_its_spans_to_an_otlp_http_receiver()
    {
        int port = FreePort();
        var bodies = new List<byte[]>();
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        var receiving = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try { context = await listener.GetContextAsync(); }
                catch (Exception) { return; }
                using var body = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(body);
                if (context.Request.Url!.AbsolutePath == "/v1/traces") lock (bodies) bodies.Add(body.ToArray());
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        string folder = Directory.CreateTempSubdirectory("prh-otlp-").FullName;
        string spec = WriteSpec(folder, "otlp-sweep", SweepTests.VisionModels().Take(2), [("cka", null)]);
        var run = RunWith(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{port}",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_SERVICE_NAME"] = "prh-otlp-test",
        }, "sweep", "run", spec, "--json", "--data", Path.Combine(folder, "data"));
        Assert.True(run.ExitCode == 0, run.Stderr);
        listener.Stop();
        await receiving;

        string received;
        lock (bodies) received = string.Join("\n", bodies.Select(b => Encoding.UTF8.GetString(b)));
        Assert.Contains("prh.sweep.run", received);       // the client's span
        Assert.Contains("prh.tile", received);            // the silo's spans, in the same export
        Assert.Contains("otlp-sweep", received);          // the sweep id attribute
        Assert.Contains("prh-otlp-test", received);       // OTEL_SERVICE_NAME
    }
}
