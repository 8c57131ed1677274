using System.Text.RegularExpressions;
using Prh.Alignment.Metrics;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Grains.Aggregation;

namespace Prh.Grains.Sweeps;

/// <summary>What a sweep definition must satisfy before anything runs; every message names the field at fault.</summary>
public static partial class SweepValidation
{
    /// <summary>Ids and dataset names become grain keys and store names: letters, digits, '.', '_' and '-', starting with a letter or digit.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex SafeName();

    public static bool IsSafeName(string? name) => name is not null && SafeName().IsMatch(name) && !name.Contains("..");

    /// <summary>The error for a name that starts like a stored blob's but is not one (never read as a file path).</summary>
    public static string NotABlob(string text) => $"'{text}' is not a blob reference (blob:sha256:<64 lower-case hex digits>:<length>)";

    private static void CheckPath(string? path, string field)
    {
        if (path is not null && path.StartsWith("blob:", StringComparison.Ordinal) && !BlobRef.TryParseUri(path, out _))
            throw new ArgumentException($"{field}: {NotABlob(path)}");
    }

    public static void Check(SweepDefinition definition)
    {
        if (!IsSafeName(definition.Name))
            throw new ArgumentException($"sweep name '{definition.Name}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
        if (!IsSafeName(definition.Dataset))
            throw new ArgumentException($"dataset '{definition.Dataset}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
        if (definition.Models.Count == 0) throw new ArgumentException("models: a sweep needs at least one model");
        if (definition.Metrics.Count == 0) throw new ArgumentException("metrics: a sweep needs at least one metric");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in definition.Models)
        {
            if (!IsSafeName(model.Id))
                throw new ArgumentException($"model id '{model.Id}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
            if (!seen.Add(model.Id)) throw new ArgumentException($"model id '{model.Id}' appears twice");
            if (string.IsNullOrWhiteSpace(model.Features) == (model.Onnx is null))
                throw new ArgumentException($"model '{model.Id}': give either features or onnx");
            CheckPath(model.Features, $"model '{model.Id}' features");
            CheckPath(model.Onnx?.Path, $"model '{model.Id}' onnx");
            if (model.Onnx is { } onnx)
            {
                if (string.IsNullOrWhiteSpace(onnx.Path)) throw new ArgumentException($"model '{model.Id}': onnx is empty");
                if ((onnx.Layers is { Count: > 0 }) == !string.IsNullOrWhiteSpace(onnx.LayerOp))
                    throw new ArgumentException($"model '{model.Id}': give either layers or layer_op");
                if (onnx.Pool is not ("none" or "mean" or "first" or "last"))
                    throw new ArgumentException($"model '{model.Id}': pool '{onnx.Pool}' is not one of none, mean, first, last");
                if (definition.Inputs is not { Count: > 0 })
                    throw new ArgumentException($"model '{model.Id}' is an ONNX model, so the dataset needs inputs");
            }
        }
        foreach (var (name, input) in definition.Inputs ?? new Dictionary<string, string>()) CheckPath(input, $"dataset input '{name}'");
        if (definition.ShardSize < 1) throw new ArgumentException($"shard_size must be at least 1, got {definition.ShardSize}");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in definition.Metrics)
        {
            try { metric.ToSpec(); }
            catch (AlignmentException e) { throw new ArgumentException($"metric '{metric.Name}': {e.Message}"); }
            if (!keys.Add(metric.Key)) throw new ArgumentException($"metric '{metric.Key}' appears twice");
        }
    }
}
