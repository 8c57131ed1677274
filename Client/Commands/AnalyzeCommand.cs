using System.CommandLine;
using Prh.Alignment.Metrics;
using Prh.Client.Analysis;
using Prh.Contracts;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh sweep analyze</c>: the paper's analyses of one metric's matrix against the models' competence
/// (Huh et al. 2024, Fig. 2 and Fig. 3), from a finished sweep or, with <c>--matrix</c>, from a
/// results.json with no cluster. Prints the tables (or JSON) and writes the PNGs and the JSON to
/// <c>--out</c>, each named after the metric so analyses of several metrics can share a folder.
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Build()
    {
        var id = new Argument<string?>("ID") { Description = "Sweep id (its name); leave out with --matrix", Arity = ArgumentArity.ZeroOrOne };
        var matrixFile = new Option<string?>("--matrix") { Description = "A results.json (as prh demo and prh sweep run --json write it) instead of a sweep: no cluster needed" };
        var gateway = SweepCommand.Gateways("Gateways (host:port); default localhost:30000");
        var metric = SweepCommand.MetricOption();
        var competence = new Option<string>("--competence")
        {
            Description = "CSV of 'model id, score' with a score for every model of the matrix (a header line allowed)",
            Required = true,
        };
        var reference = new Option<string?>("--reference") { Description = "A model: plot every other model's alignment with it against competence, with correlations" };
        var against = new Option<string[]>("--against")
        {
            Description = "Models whose mean alignment is the reference instead of one model's (as the paper's family of language models)",
            AllowMultipleArgumentsPerToken = true,
            Arity = ArgumentArity.ZeroOrMore,
        };
        var buckets = new Option<int?>("--buckets")
        {
            Description = $"Competence buckets, each of at least 2 models; default {AnalysisReport.DefaultBuckets}, or fewer when the models are fewer than {2 * AnalysisReport.DefaultBuckets}",
        };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples of the models for the correlations' intervals", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the bootstrap's resamples", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Folder for the PNGs and the JSON", DefaultValueFactory = _ => "./prh-analysis" };
        var json = new Option<bool>("--json") { Description = "Print the report as one JSON document" };
        var command = new Command("analyze",
            "Alignment against competence, as the paper's Fig. 2 and 3: within-bucket alignment, a 2-D map of the models, and with --reference or --against correlations.")
            { id, matrixFile, gateway, metric, competence, reference, against, buckets, bootstrap, seed, output, json };
        command.SetAction((parse, _) => CommandErrors.RunAsync(async () =>
        {
            string? sweep = parse.GetValue(id), file = parse.GetValue(matrixFile);
            if ((sweep is null) == (file is null))
                throw new RefusalException("name either a sweep ID or --matrix FILE (a results.json)");
            string wanted = parse.GetValue(metric)!;
            var matrix = file is not null ? ModelMatrix.Read(file, wanted) : await FromSweep(sweep!, wanted, parse.GetValue(gateway));
            string csv = parse.GetValue(competence)!;
            var scores = CompetenceFile.Read(csv, matrix.Models);
            var group = Group(matrix, parse.GetValue(reference), parse.GetValue(against) ?? []);
            var report = AnalysisReport.Compute(matrix, scores, parse.GetValue(buckets), group, parse.GetValue(bootstrap), parse.GetValue(seed));

            string folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            string Named(string suffix) => Path.Combine(folder, $"{matrix.Metric}-{suffix}");
            var files = new List<string> { Named("buckets.png"), Named("map.png") };
            AnalysisPlots.Buckets(report, files[0]);
            AnalysisPlots.Map(report, files[1]);
            if (report.Reference is { } r)
            {
                files.Add(Named("reference.png"));
                AnalysisPlots.Reference(report, r, files[^1]);
            }
            files.Add(Named("analysis.json"));
            string document = AnalysisOutput.Json(report, files);
            await File.WriteAllTextAsync(files[^1], document + "\n");
            Console.Out.Write(parse.GetValue(json) ? document + "\n" : AnalysisOutput.Text(report, csv, files));
            return 0;
        }));
        return command;
    }

    private static async Task<ModelMatrix> FromSweep(string sweep, string metric, string[]? gateways)
    {
        await using var cluster = await SweepCommand.Connect(gateways);
        var matrix = await SweepCommand.Matrix(cluster, sweep, metric);
        return new ModelMatrix(matrix.Metric.Key, matrix.Models, matrix.Scores);
    }

    /// <summary>The reference's models as matrix indices, or null without one; ids not in the matrix are refused by name.</summary>
    private static int[]? Group(ModelMatrix matrix, string? reference, string[] against)
    {
        if (reference is not null && against.Length > 0)
            throw new RefusalException("give --reference MODEL or --against MODEL..., not both");
        string option = reference is not null ? "--reference" : "--against";
        string[] ids = reference is not null ? [reference] : against;
        if (ids.Length == 0) return null;
        return ids.Select(m =>
        {
            int index = matrix.Models.ToList().IndexOf(m);
            return index >= 0 ? index
                : throw new AlignmentException(ErrorKind.ValueError, $"{option} '{m}' is not a model of the {matrix.Metric} matrix; its models are {string.Join(", ", matrix.Models)}");
        }).ToArray();
    }
}
