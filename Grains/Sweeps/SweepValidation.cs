using Prh.Contracts;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Extraction.Datasets;

namespace Prh.Grains.Sweeps;

/// <summary>What a sweep definition must satisfy before anything runs; every message names the field at fault.</summary>
public static class SweepValidation
{
    /// <summary>Ids and dataset names become grain keys and store names: the rule of <see cref="SafeName"/>, which dataset sample ids share.</summary>
    public static bool IsSafeName(string? name) => SafeName.IsSafe(name);

    /// <summary>The error for a name that starts like a stored blob's but is not one (never read as a file path).</summary>
    public static string NotABlob(string text) => $"'{text}' is not a blob reference (blob:sha256:<64 lower-case hex digits>:<length>)";

    private static void CheckPath(string? path, string field)
    {
        if (path is not null && path.StartsWith("blob:", StringComparison.Ordinal) && !BlobRef.TryParseUri(path, out _))
            throw new RefusalException($"{field}: {NotABlob(path)}");
    }

    public static void Check(SweepDefinition definition)
    {
        if (!IsSafeName(definition.Name))
            throw new RefusalException($"sweep name '{definition.Name}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
        if (!IsSafeName(definition.Dataset))
            throw new RefusalException($"dataset '{definition.Dataset}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
        if (definition.Models.Count == 0) throw new RefusalException("models: a sweep needs at least one model");
        if (definition.Metrics.Count == 0) throw new RefusalException("metrics: a sweep needs at least one metric");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var model in definition.Models)
        {
            if (!IsSafeName(model.Id))
                throw new RefusalException($"model id '{model.Id}' is not a safe name (letters, digits, '.', '_', '-'; at most 128)");
            if (!seen.Add(model.Id)) throw new RefusalException($"model id '{model.Id}' appears twice");
            if (string.IsNullOrWhiteSpace(model.Features) == (model.Onnx is null))
                throw new RefusalException($"model '{model.Id}': give either features or onnx");
            CheckPath(model.Features, $"model '{model.Id}' features");
            CheckPath(model.Onnx?.Path, $"model '{model.Id}' onnx");
            if (model.Onnx is { } onnx)
            {
                if (string.IsNullOrWhiteSpace(onnx.Path)) throw new RefusalException($"model '{model.Id}': onnx is empty");
                if ((onnx.Layers is { Count: > 0 }) == !string.IsNullOrWhiteSpace(onnx.LayerOp))
                    throw new RefusalException($"model '{model.Id}': give either layers or layer_op");
                if (!Enum.IsDefined(onnx.Pool)) throw new RefusalException($"model '{model.Id}': pool {(int)onnx.Pool} is not a pooling");
                if (definition.Data is not { IsEmpty: false })
                    throw new RefusalException($"model '{model.Id}' is an ONNX model, so the dataset needs inputs (inputs, or build)");
                CheckPath(onnx.Preprocess, $"model '{model.Id}' preprocess");
            }
            CheckPath(model.Samples, $"model '{model.Id}' samples");
        }
        if (definition.Data is { } data)
        {
            if (data.Files is { Count: > 0 } && data.Build is not null)
                throw new RefusalException("the dataset gives both inputs and build: its inputs are files or are built, not both");
            foreach (var (name, input) in data.Files ?? new Dictionary<string, string>()) CheckPath(input, $"dataset input '{name}'");
            CheckPath(data.Samples, "dataset samples");
            if (data.Build is { } build)
            {
                CheckPath(build.Samples, "build samples");
                CheckPath(build.Vocab, "build vocab");
                if (build.ImageSize < 1) throw new RefusalException($"build image_size must be at least 1, got {build.ImageSize}");
                if (build.MaxTokens < 3) throw new RefusalException($"build max_tokens must be at least 3 ([CLS], a token, [SEP]), got {build.MaxTokens}");
            }
        }
        if (definition.ShardSize < 1) throw new RefusalException($"shard_size must be at least 1, got {definition.ShardSize}");
        if (definition.Calibration is { } calibration)
        {
            Refusals.Engine(() =>
            {
                calibration.Validate(SpecField);
                return calibration;
            });
            CheckPath(calibration.PermutationsFile, "calibration.permutations");
        }
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var metric in definition.Metrics)
            if (!keys.Add(metric.Key)) throw new RefusalException($"metric '{metric.Key}' appears twice");
    }

    /// <summary>A calibration field as the spec names it (recorded permutations are <c>permutations: FILE.npy</c> there).</summary>
    public static string SpecField(string field) => field == "permutations_file" ? "calibration.permutations" : $"calibration.{field}";
}
