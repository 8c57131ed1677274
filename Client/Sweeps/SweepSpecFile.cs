using Prh.Contracts.Sweeps;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Prh.Client.Sweeps;

/// <summary>
/// The YAML sweep spec:
/// <code>
/// name: my-sweep
/// dataset: wit-1024
/// models:
///   - id: dinov2_b
///     features: path/to/dinov2_b.npy      # relative to the spec's folder
/// metrics:
///   - name: mutual_knn
///     topk: 10
///   - name: cka                            # also kernel_metric, rbf_sigma; svcca: cca_dim
/// </code>
/// Unknown keys are refused with their line, so a typo never silently changes a sweep.
/// </summary>
public static class SweepSpecFile
{
    public static SweepDefinition Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SweepSpecException($"{path}: {e.Message}");
        }
        Spec spec;
        try
        {
            spec = new DeserializerBuilder().WithNamingConvention(UnderscoredNamingConvention.Instance).Build().Deserialize<Spec>(text)
                ?? throw new SweepSpecException($"{path}: the file is empty");
        }
        catch (YamlException e)
        {
            throw new SweepSpecException($"{path}:{e.Start.Line}:{e.Start.Column}: {(e.InnerException ?? e).Message}");
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Required(string? value, string field) =>
            string.IsNullOrWhiteSpace(value) ? throw new SweepSpecException($"{path}: '{field}' is required") : value;
        return new SweepDefinition(
            Required(spec.Name, "name"),
            Required(spec.Dataset, "dataset"),
            (spec.Models ?? []).Select((m, i) => new ModelSource(
                Required(m.Id, $"models[{i}].id"),
                Path.GetFullPath(Path.Combine(folder, Required(m.Features, $"models[{i}].features"))))).ToList(),
            (spec.Metrics ?? []).Select((m, i) => new MetricConfig(
                Required(m.Name, $"metrics[{i}].name"), m.Topk, m.KernelMetric, m.RbfSigma, m.CcaDim)).ToList());
    }

    private sealed class Spec
    {
        public string? Name { get; set; }
        public string? Dataset { get; set; }
        public List<ModelEntry>? Models { get; set; }
        public List<MetricEntry>? Metrics { get; set; }
    }

    private sealed class ModelEntry
    {
        public string? Id { get; set; }
        public string? Features { get; set; }
    }

    private sealed class MetricEntry
    {
        public string? Name { get; set; }
        public int? Topk { get; set; }
        public string? KernelMetric { get; set; }
        public double? RbfSigma { get; set; }
        public int? CcaDim { get; set; }
    }
}

public sealed class SweepSpecException(string message) : Exception(message);
