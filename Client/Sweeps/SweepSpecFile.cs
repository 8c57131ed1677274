using Prh.Alignment.Metrics;
using Prh.Extraction;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Sweeps;
using System.Text.RegularExpressions;
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
///   - id: mlp_w256
///     onnx: models/mlp_w256.onnx           # features extracted on the silos, over the dataset's inputs
///     layers: [layer0/relu, layer1/relu]   # or layer_op: Relu
///     pool: none                           # none, mean (over mask = 1), first, last
///     mask: mask                           # the input pooling reads; inputs: {x: tokens} maps model inputs
/// inputs:                                  # the dataset's input tensors (first axis = sample)
///   x: data/x.npy
/// shard_size: 256                          # samples per extraction shard
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
            throw new SweepSpecException($"{path}:{e.Start.Line}:{e.Start.Column}: {Explain((e.InnerException ?? e).Message)}");
        }
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string Required(string? value, string field) =>
            string.IsNullOrWhiteSpace(value) ? throw new SweepSpecException($"{path}: '{field}' is required") : value;
        // Parsed here, once: the definition carries the engine's metric and pooling types.
        MetricSpec Metric(MetricEntry entry, string field)
        {
            string name = Required(entry.Name, $"{field}.name");
            try
            {
                return MetricSpec.ForComputeScore(name, entry.Topk ?? 10, entry.KernelMetric, entry.RbfSigma, entry.CcaDim);
            }
            catch (AlignmentException e)
            {
                throw new SweepSpecException($"{path}: {field} ('{name}'): {e.Message}");
            }
        }
        Pooling Pool(string? text, string field)
        {
            try
            {
                return text is null ? Pooling.Mean : PoolingNames.Parse(text);
            }
            catch (ExtractionException e)
            {
                throw new SweepSpecException($"{path}: {field}: {e.Message}");
            }
        }
        // A stored blob (blob:sha256:HEX:LENGTH, as prh store put prints it) is taken as it is.
        string Resolve(string file) => BlobRef.TryParseUri(file, out _) ? file
            : file.StartsWith("blob:", StringComparison.Ordinal) ? throw new SweepSpecException($"{path}: {SweepValidation.NotABlob(file)}")
            : Path.GetFullPath(Path.Combine(folder, file));
        return new SweepDefinition(
            Required(spec.Name, "name"),
            Required(spec.Dataset, "dataset"),
            (spec.Models ?? []).Select((m, i) =>
            {
                string id = Required(m.Id, $"models[{i}].id");
                if (string.IsNullOrWhiteSpace(m.Features) == string.IsNullOrWhiteSpace(m.Onnx))
                    throw new SweepSpecException($"{path}: models[{i}] ('{id}') needs either features or onnx");
                return m.Onnx is { } onnx
                    ? new ModelDefinition(id, null, new OnnxSource(Resolve(onnx), m.Layers, m.LayerOp, Pool(m.Pool, $"models[{i}].pool"), m.Mask, m.Inputs))
                    : new ModelDefinition(id, Resolve(m.Features!));
            }).ToList(),
            (spec.Metrics ?? []).Select((m, i) => Metric(m, $"metrics[{i}]")).ToList(),
            spec.Inputs?.ToDictionary(p => p.Key, p => Resolve(p.Value)),
            spec.ShardSize ?? 256);
    }

    /// <summary>YamlDotNet's messages in the spec's terms: keys and kinds of value, not .NET types.</summary>
    private static string Explain(string message)
    {
        if (Regex.Match(message, @"^Property '([^']*)' not found on type") is { Success: true } key)
            return $"unknown key '{key.Groups[1].Value}'";
        if (Regex.Match(message, @"^The input string '([^']*)' was not in a correct format") is { Success: true } number)
            return $"expected a number, got '{number.Groups[1].Value}'";
        if (Regex.Match(message, @"^(?:No node deserializer was able to deserialize the node into type|Invalid cast from '[^']*' to) '?([\w.`]+)") is { Success: true } type)
            return $"expected {Kind(type.Groups[1].Value)} here";
        return message;
    }

    private static string Kind(string type) => type switch
    {
        "System.String" => "a single value (text)",
        "System.Int32" or "System.Double" => "a number",
        _ when type.StartsWith("System.Collections.Generic.List", StringComparison.Ordinal) => "a list",
        _ when type.StartsWith("System.Collections.Generic.Dictionary", StringComparison.Ordinal) => "a mapping of names to values",
        _ => "a mapping (key: value lines)",
    };

    private sealed class Spec
    {
        public string? Name { get; set; }
        public string? Dataset { get; set; }
        public List<SpecModel>? Models { get; set; }
        public List<MetricEntry>? Metrics { get; set; }
        public Dictionary<string, string>? Inputs { get; set; }
        public int? ShardSize { get; set; }
    }

    private sealed class SpecModel
    {
        public string? Id { get; set; }
        public string? Features { get; set; }
        public string? Onnx { get; set; }
        public List<string>? Layers { get; set; }
        public string? LayerOp { get; set; }
        public string? Pool { get; set; }
        public string? Mask { get; set; }
        public Dictionary<string, string>? Inputs { get; set; }
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
