using System.CommandLine;
using System.Diagnostics;
using Prh.Client.Sweeps;
using Prh.Contracts;
using Prh.Contracts.Grains;
using Prh.Contracts.Sweeps;
using Prh.Grains.Telemetry;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh sweep run|submit|status|watch|results</c>. <c>run</c> uses an embedded single-silo cluster
/// unless <c>--gateway</c> names a running one; the others talk to a running cluster
/// (localhost:30000 by default).
/// </summary>
internal static class SweepCommand
{
    public static Command Build()
    {
        var sweep = new Command("sweep", "Run and inspect sweeps: every model of a dataset against every other, per metric, on the cluster.");
        sweep.Subcommands.Add(Run());
        sweep.Subcommands.Add(Submit());
        sweep.Subcommands.Add(Status());
        sweep.Subcommands.Add(Watch());
        sweep.Subcommands.Add(Results());
        sweep.Subcommands.Add(Plot());
        sweep.Subcommands.Add(AnalyzeCommand.Build());
        return sweep;
    }

    internal static Option<string[]> Gateways(string description) => new("--cluster", "--gateway")
    {
        Description = description,
        AllowMultipleArgumentsPerToken = true,
        Arity = ArgumentArity.ZeroOrMore,
    };

    private static Command Run()
    {
        var spec = new Argument<string>("SPEC") { Description = "Sweep spec (YAML)" };
        var json = new Option<bool>("--json") { Description = "Print {\"models\", \"results\"} as one JSON document" };
        var gateway = Gateways("Gateways (host:port) of a running cluster; default: an embedded single silo in this process");
        var data = new Option<string>("--data") { Description = "Data directory of the embedded silo's store", DefaultValueFactory = _ => "./prh-data" };
        var command = new Command("run", "Run a sweep to completion and print each metric's matrix.") { spec, json, gateway, data };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            var definition = SweepSpecFile.Load(parse.GetValue(spec)!);
            string[] gateways = parse.GetValue(gateway) ?? [];
            bool console = parse.GetValue(PrhCommand.TraceConsole);
            await using var cluster = gateways.Length > 0
                ? await ClusterConnection.Remote(gateways, console)
                : await ClusterConnection.Embedded(parse.GetValue(data)!, console);
            // The sweep's trace starts here: every grain call and silo below joins it.
            using var span = PrhTelemetry.Source.StartActivity("prh.sweep.run", ActivityKind.Client);
            span?.SetTag("prh.sweep", definition.Name);
            var grain = cluster.Client.GetGrain<ISweepGrain>(definition.Name);
            await grain.SubmitAsync(definition);
            var status = await SweepProgress.FollowAsync(grain, Console.Error, terminal: !Console.IsErrorRedirected);
            if (status.Phase != SweepPhase.Completed) span?.SetStatus(ActivityStatusCode.Error, string.Join("; ", SweepStatusText.Errors(status)));
            if (status.Phase != SweepPhase.Completed)
                throw new RefusalException($"sweep '{definition.Name}' failed: {string.Join("; ", SweepStatusText.Errors(status))}");
            var results = await grain.GetResultsAsync();
            if (parse.GetValue(json))
                Console.Out.WriteLine(SweepResults.Json(results[0].Models, results)); // failed models are left out
            else
                foreach (var matrix in results) Console.Out.WriteLine(SweepResults.Table(matrix));
            return 0;
        }));
        return command;
    }

    private static Command Submit()
    {
        var spec = new Argument<string>("SPEC") { Description = "Sweep spec (YAML)" };
        var gateway = Gateways("Gateways (host:port); default localhost:30000");
        var command = new Command("submit", "Submit a sweep to a running cluster and print its id.") { spec, gateway };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            var definition = SweepSpecFile.Load(parse.GetValue(spec)!);
            await using var cluster = await Connect(parse.GetValue(gateway), parse.GetValue(PrhCommand.TraceConsole));
            using var span = PrhTelemetry.Source.StartActivity("prh.sweep.submit", ActivityKind.Client);
            span?.SetTag("prh.sweep", definition.Name);
            var status = await cluster.Client.GetGrain<ISweepGrain>(definition.Name).SubmitAsync(definition);
            Console.Out.WriteLine(status.Id);
            return 0;
        }));
        return command;
    }

    private static Command Status()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id (its name)" };
        var gateway = Gateways("Gateways (host:port); default localhost:30000");
        var json = new Option<bool>("--json") { Description = "Print the status as JSON" };
        var command = new Command("status", "Show a sweep's progress, errors and the layer pairs its aggregators have scored.") { id, gateway, json };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            await using var cluster = await Connect(parse.GetValue(gateway));
            var status = await cluster.Client.GetGrain<ISweepGrain>(parse.GetValue(id)!).GetStatusAsync();
            Console.Out.WriteLine(parse.GetValue(json) ? StatusJson(status) : SweepStatusText.Describe(status));
            return status.Phase == SweepPhase.Failed ? 1 : 0;
        }));
        return command;
    }

    private static Command Watch()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id (its name)" };
        var gateway = Gateways("Gateways (host:port); default localhost:30000");
        var command = new Command("watch", "Follow a sweep's progress until it finishes.") { id, gateway };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            await using var cluster = await Connect(parse.GetValue(gateway));
            var status = await SweepProgress.FollowAsync(cluster.Client.GetGrain<ISweepGrain>(parse.GetValue(id)!), Console.Out, terminal: !Console.IsOutputRedirected);
            return status.Phase == SweepPhase.Completed ? 0 : 1;
        }));
        return command;
    }

    private static Command Results()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id (its name)" };
        var gateway = Gateways("Gateways (host:port); default localhost:30000");
        var metric = MetricOption();
        var pair = PairOption();
        var format = new Option<string>("--format") { Description = "table, csv, json or npy", DefaultValueFactory = _ => "table" };
        var output = new Option<string?>("--out") { Description = "Write to this file instead of stdout (required for npy)" };
        var views = new ViewOptions();
        var command = new Command("results", "Print one metric's matrix of a finished sweep, or with --pair one model pair's layer x layer matrix.")
            { id, gateway, metric, pair, format, output };
        views.AddTo(command);
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            await using var cluster = await Connect(parse.GetValue(gateway));
            string? path = parse.GetValue(output);
            string chosen = parse.GetValue(format)!;
            if (chosen is not ("table" or "csv" or "json" or "npy")) throw new RefusalException($"--format '{chosen}' is not one of table, csv, json, npy");
            if (chosen == "npy" && path is null) throw new RefusalException("--format npy needs --out FILE.npy");
            var sweep = cluster.Client.GetGrain<ISweepGrain>(parse.GetValue(id)!);
            var view = views.Read(parse);
            if (Pair(parse.GetValue(pair)) is { } models)
            {
                if (view != MatrixView.Scores) throw new RefusalException("--calibrated, --pvalues and --significant are of the models x models matrix, not of --pair");
                var layers = await sweep.GetPairAsync(parse.GetValue(metric)!, models.First, models.Second);
                if (chosen == "npy")
                {
                    Prh.Alignment.IO.NpyFile.Write(path!, [layers.Scores.Length, layers.Scores[0].Length], layers.Scores.SelectMany(r => r).ToArray(),
                        Prh.Alignment.IO.TensorDType.Float64);
                    return 0;
                }
                await Write(path, chosen switch { "table" => SweepResults.Table(layers), "csv" => SweepResults.Csv(layers), _ => SweepResults.Json(layers) + "\n" });
                return 0;
            }
            var matrix = await Matrix(cluster, parse.GetValue(id)!, parse.GetValue(metric)!);
            if (chosen == "npy")
            {
                int m = matrix.Models.Count;
                Prh.Alignment.IO.NpyFile.Write(path!, [m, m], SweepResults.Values(matrix, view).SelectMany(r => r).ToArray(), Prh.Alignment.IO.TensorDType.Float64);
                return 0;
            }
            await Write(path, chosen switch
            {
                "table" => SweepResults.Table(matrix, view),
                "csv" => SweepResults.Csv(matrix, view),
                _ => SweepResults.MatrixJson(matrix, view) + "\n",
            });
            return 0;
        }));
        return command;
    }

    private static async Task Write(string? path, string text)
    {
        if (path is null) Console.Out.Write(text);
        else await File.WriteAllTextAsync(path, text);
    }

    private static Option<string[]> PairOption() => new("--pair")
    {
        Description = "Two model ids A B: compute_score(prep(A), prep(B))'s whole layer x layer matrix (rows: A's layers)",
        Arity = new ArgumentArity(2, 2),
        AllowMultipleArgumentsPerToken = true,
    };

    private static (string First, string Second)? Pair(string[]? ids) => ids is { Length: 2 } ? (ids[0], ids[1]) : null;

    private static Command Plot()
    {
        var id = new Argument<string>("ID") { Description = "Sweep id (its name)" };
        var gateway = Gateways("Gateways (host:port); default localhost:30000");
        var metric = MetricOption();
        var pair = PairOption();
        var output = new Option<string>("--out") { Description = "PNG file to write", Required = true };
        var views = new ViewOptions();
        var command = new Command("plot", "Draw one metric's matrix of a finished sweep, or with --pair one model pair's layer x layer matrix, as a heatmap (PNG); "
            + "a calibrated sweep's non-significant entries are marked.")
            { id, gateway, metric, pair, output };
        views.AddTo(command);
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            await using var cluster = await Connect(parse.GetValue(gateway));
            var view = views.Read(parse);
            if (Pair(parse.GetValue(pair)) is { } models)
            {
                if (view != MatrixView.Scores) throw new RefusalException("--calibrated, --pvalues and --significant are of the models x models matrix, not of --pair");
                HeatmapPlot.Save(await cluster.Client.GetGrain<ISweepGrain>(parse.GetValue(id)!).GetPairAsync(parse.GetValue(metric)!, models.First, models.Second),
                    parse.GetValue(output)!);
            }
            else
                HeatmapPlot.Save(await Matrix(cluster, parse.GetValue(id)!, parse.GetValue(metric)!), view, parse.GetValue(output)!);
            return 0;
        }));
        return command;
    }

    internal static Option<string> MetricOption() =>
        new("--metric", "-m") { Description = "Metric name or key (e.g. mutual_knn or mutual_knn@10)", Required = true };

    internal static async Task<MetricMatrix> Matrix(ClusterConnection cluster, string id, string wanted)
    {
        var results = await cluster.Client.GetGrain<ISweepGrain>(id).GetResultsAsync();
        return results.FirstOrDefault(r => r.Metric.Key == wanted) ?? results.FirstOrDefault(r => r.Metric.Name == wanted)
            ?? throw new RefusalException($"sweep '{id}' has no metric '{wanted}'; it has {string.Join(", ", results.Select(r => r.Metric.Key))}");
    }

    internal static Task<ClusterConnection> Connect(string[]? gateways, bool traceConsole = false) =>
        ClusterConnection.Remote(gateways is { Length: > 0 } ? gateways : ["127.0.0.1:30000"], traceConsole);

    private static string StatusJson(SweepStatus s) => Json.Document(w =>
    {
        w.WriteStartObject();
        w.WriteString("id", s.Id);
        w.WriteString("phase", s.Phase.ToString().ToLowerInvariant());
        w.WriteNumber("models_imported", s.ModelsImported);
        w.WriteNumber("models", s.ModelCount);
        w.WriteNumber("metrics_done", s.MetricsDone);
        w.WriteNumber("metrics", s.MetricCount);
        w.WriteNumber("layer_pairs_scored", s.LayerPairsScored);
        w.WriteArray("model_errors", s.ModelErrors, (w, e) =>
        {
            w.WriteStartObject();
            w.WriteString("model", e.Model);
            w.WriteString("message", e.Message);
            w.WriteEndObject();
        });
        w.WriteString("failure", s.Failure);
        w.WriteArray("extractions", s.Extractions, (w, e) =>
        {
            w.WriteStartObject();
            w.WriteString("model", e.Model);
            w.WriteNumber("shards_done", e.ShardsDone);
            w.WriteNumber("shards", e.ShardCount);
            w.WriteArray("sites", e.Sites, (w, site) =>
            {
                w.WriteStartObject();
                w.WriteString("provider", site.Provider);
                w.WriteString("silo", site.Silo);
                w.WriteEndObject();
            });
            w.WriteEndObject();
        });
        w.WriteString("trace_id", s.TraceId);
        if (s.Paused is { } paused)
        {
            w.WriteStartObject("paused");
            w.WriteString("since", paused.Since);
            w.WriteString("reason", paused.Reason);
            w.WriteEndObject();
        }
        else w.WriteNull("paused");
        w.WriteArray("recoveries", s.Recoveries, (w, r) =>
        {
            w.WriteStartObject();
            w.WriteString("model", r.Model);
            w.WriteString("lost", r.Lost.ToUri());
            w.WriteString("source", r.Source);
            w.WriteEndObject();
        });
        w.WriteNumber("tiles_done", s.Scoring?.TilesDone ?? 0);
        w.WriteNumber("tiles", s.Scoring?.TileCount ?? 0);
        w.WriteNumber("layer_pairs_done", s.Scoring?.LayerPairsDone ?? 0);
        w.WriteNumber("layer_pairs", s.Scoring?.LayerPairCount ?? 0);
        w.WriteNumber("sketches_done", s.Scoring?.SketchesDone ?? 0);
        w.WriteNumber("sketches", s.Scoring?.SketchCount ?? 0);
        w.WriteEndObject();
    });

    /// <summary><c>--calibrated</c>, <c>--pvalues</c>, <c>--significant</c>: which of a calibrated sweep's matrices to show (one at most; the scores without).</summary>
    private sealed class ViewOptions
    {
        private readonly (Option<bool> Option, MatrixView View)[] _views =
        [
            (new Option<bool>("--calibrated") { Description = "The calibrated scores clip((s - τ) / (1 - τ), 0, 1) of a calibrated sweep" }, MatrixView.Calibrated),
            (new Option<bool>("--pvalues") { Description = "The permutation p-values (1 + #{null ≥ s}) / (K + 1) of a calibrated sweep" }, MatrixView.PValues),
            (new Option<bool>("--significant") { Description = "The scores Benjamini-Hochberg at the sweep's fdr finds significant (others empty)" }, MatrixView.Significant),
        ];

        public void AddTo(Command command)
        {
            foreach (var (option, _) in _views) command.Options.Add(option);
        }

        public MatrixView Read(ParseResult parse)
        {
            var chosen = _views.Where(v => parse.GetValue(v.Option)).ToList();
            if (chosen.Count > 1) throw new RefusalException($"{string.Join(" and ", chosen.Select(v => v.Option.Name))} exclude each other: one matrix at a time");
            return chosen.Count == 0 ? MatrixView.Scores : chosen[0].View;
        }
    }
}
