using System.CommandLine;
using Prh.Alignment.Metrics;

namespace Prh.Client.Commands;

/// <summary>
/// The metric flags every scoring command shares, turned into the reference's keyword arguments.
/// A flag a metric does not take is ignored, as the reference passes topk only to the 'knn' metrics.
/// </summary>
internal sealed class MetricOptions
{
    public Option<string> Metric { get; } = new("--metric", "-m")
    {
        Description = $"Metric name: {string.Join(", ", MetricNames.All)}",
        Required = true,
    };

    public Option<int?> TopK { get; }
    public Option<string> Kernel { get; } = new("--kernel") { Description = "cka / unbiased_cka kernel: ip (default) or rbf" };
    public Option<double?> Sigma { get; } = new("--sigma") { Description = "rbf kernel width (rbf_sigma, default 1.0)" };
    public Option<int?> CcaDim { get; } = new("--cca-dim") { Description = "svcca subspace dimension (cca_dim, default 10)" };
    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON document on stdout" };

    /// <summary>prepare_features' q, for the commands that prepare raw features.</summary>
    public Option<double> Quantile { get; } = new("--quantile")
    {
        Description = "Clamp quantile of the feature preparation (prepare_features q, default 0.95)",
        DefaultValueFactory = _ => Prh.Alignment.Features.FeaturePreparation.DefaultQuantile,
    };

    private readonly int? _defaultTopK;

    public MetricOptions(int? defaultTopK)
    {
        _defaultTopK = defaultTopK;
        TopK = new Option<int?>("--topk", "-k")
        {
            Description = "Neighbours for the knn metrics and cknna" + (defaultTopK is { } k ? $" (default {k})" : ""),
        };
    }

    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Metric, TopK, Kernel, Sigma, CcaDim, Json }) command.Options.Add(o);
    }

    public MetricSpec Spec(ParseResult parse)
    {
        string name = parse.GetValue(Metric)!;
        int? topk = parse.GetValue(TopK) ?? _defaultTopK;
        if (topk is null && MetricNames.Parse(name).UsesTopK())
            throw new AlignmentException(ErrorKind.TypeError, $"{name} needs --topk");
        return MetricSpec.ForComputeScore(name, topk, parse.GetValue(Kernel), parse.GetValue(Sigma), parse.GetValue(CcaDim));
    }
}
