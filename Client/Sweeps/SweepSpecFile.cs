using System.Globalization;
using Prh.Alignment.Calibration;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Contracts.Datasets;
using Prh.Contracts.Storage;
using Prh.Contracts.Sweeps;
using Prh.Extraction;
using Prh.Grains.Sweeps;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Prh.Client.Sweeps;

/// <summary>
/// The YAML sweep spec:
/// <code>
/// name: my-sweep
/// dataset: wit-1024
/// models:
///   - id: dinov2_b
///     features: path/to/dinov2_b.npy      # relative to the spec's folder
///     samples: path/to/dinov2_b.ids.txt    # its rows' sample ids, checked against the dataset's
///   - id: mlp_w256
///     onnx: models/mlp_w256.onnx           # features extracted on the silos, over the dataset's inputs
///     layers: [layer0/relu, layer1/relu]   # or layer_op: Relu
///     pool: none                           # none, mean (over mask = 1), first, last; spatial_mean, spatial_max
///     mask: mask                           # the input pooling reads; inputs: {x: tokens} maps model inputs
///     preprocess: models/prep.onnx         # run on the dataset inputs before the model
/// inputs:                                  # the dataset's input tensors (first axis = sample)
///   x: data/x.npy
/// samples: data/samples.txt                # their sample ids (prh dataset build writes them)
/// build:                                   # or: build the inputs on the silos from raw samples
///   samples: samples.tsv                   # id, image path, caption per line
///   image_size: 224                        # also normalize: false, vocab: vocab.txt, max_tokens: 64
/// shard_size: 256                          # samples per extraction shard
/// metrics:
///   - name: mutual_knn
///     topk: 10
///   - name: cka                            # also kernel_metric, rbf_sigma; svcca: cca_dim
/// calibration:                             # optional: every pair also calibrated by one set of permutations
///   permutations: 200                      # K seeded draws, or a recorded (K, N) .npy: permutations: perms.npy
///   alpha: 0.05                            # τ's level; also seed: 0, aggregate: max, fdr: 0.05
/// </code>
/// The YAML is read as a tree of nodes and mapped by hand, so every error is in the spec's terms and
/// names the file, line, column and field (<c>bad.yaml:9:5: models[0].pool: unknown pooling 'max'; ...</c>).
/// Unknown keys are refused, so a typo never silently changes a sweep.
/// </summary>
public static class SweepSpecFile
{
    private static readonly string[] SpecKeys = ["name", "dataset", "models", "metrics", "inputs", "samples", "build", "shard_size", "calibration"];
    private static readonly string[] ModelKeys = ["id", "features", "samples", "onnx", "layers", "layer_op", "pool", "mask", "inputs", "preprocess"];
    private static readonly string[] BuildKeys = ["samples", "image_size", "normalize", "vocab", "max_tokens"];
    private static readonly string[] MetricKeys = ["name", "topk", "kernel_metric", "rbf_sigma", "cca_dim"];
    private static readonly string[] CalibrationKeys = ["permutations", "alpha", "seed", "aggregate", "fdr"];

    public static SweepDefinition Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SweepSpecException($"{path}: {e.Message}");
        }
        var spec = new Mapping(path, Root(path, text), "", SpecKeys);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        // A stored blob (blob:sha256:HEX:LENGTH, as prh store put prints it) is taken as it is.
        string Resolve(string file, Func<string, SweepSpecException> refuse) => BlobRef.TryParseUri(file, out _) ? file
            : file.StartsWith("blob:", StringComparison.Ordinal) ? throw refuse(SweepValidation.NotABlob(file))
            : Path.GetFullPath(Path.Combine(folder, file));

        ModelDefinition Model(Mapping m)
        {
            string id = m.Required("id");
            string? features = m.Text("features"), onnx = m.Text("onnx");
            if (string.IsNullOrWhiteSpace(features) == string.IsNullOrWhiteSpace(onnx)) throw m.Error($"{m.Field} ('{id}') needs either features or onnx");
            string? samples = PathOf(m, "samples");
            if (!string.IsNullOrWhiteSpace(features)) return new ModelDefinition(id, Resolve(features, message => m.Error("features", message)), Samples: samples);
            return new ModelDefinition(id, null, new OnnxSource(
                Resolve(onnx!, message => m.Error("onnx", message)),
                m.Texts("layers"),
                m.Text("layer_op"),
                Pool(m),
                m.Text("mask"),
                m.Names("inputs")?.ToDictionary(e => e.Name, e => e.Value),
                PathOf(m, "preprocess")), samples);
        }

        // A file a key names, resolved against the spec's folder; null when the key is absent.
        string? PathOf(Mapping m, string key) => m.Text(key) is { } file ? Resolve(file, message => m.Error(key, message)) : null;

        DatasetSource? Data()
        {
            var files = spec.Names("inputs")?.ToDictionary(e => e.Name, e => Resolve(e.Value, message => spec.Error(e.Node, $"inputs.{e.Name}: {message}")));
            var build = spec.Child("build", BuildKeys) is { } b
                ? new DatasetBuild(PathOf(b, "samples") ?? throw b.Error("'build.samples' is required"), b.Int("image_size") ?? 224, b.Bool("normalize") ?? true,
                    PathOf(b, "vocab"), b.Int("max_tokens") ?? 64)
                : null;
            string? samples = PathOf(spec, "samples");
            return files is null && build is null && samples is null ? null : new DatasetSource(files, build, samples);
        }

        // Parsed here, once: the definition carries the engine's pooling and metric types.
        static Pooling Pool(Mapping m)
        {
            try
            {
                return m.Text("pool") is { } pool ? PoolingNames.Parse(pool) : Pooling.Mean;
            }
            catch (ExtractionException e)
            {
                throw m.Error("pool", e.Message);
            }
        }

        static MetricSpec Metric(Mapping m)
        {
            string name = m.Required("name");
            try
            {
                return MetricSpec.ForComputeScore(name, m.Int("topk") ?? 10, m.Text("kernel_metric"), m.Double("rbf_sigma"), m.Int("cca_dim"));
            }
            catch (AlignmentException e)
            {
                throw m.Error($"{m.Field} ('{name}'): {e.Message}");
            }
        }

        // permutations: a whole number is K seeded draws; anything else names a recorded (K, N) file, read here for its K.
        CalibrationSettings? Calibration()
        {
            if (spec.Child("calibration", CalibrationKeys) is not { } c) return null;
            int count = CalibrationSettings.DefaultPermutations;
            string? file = null;
            if (c.Text("permutations") is { } text)
            {
                if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int k)) count = k;
                else
                {
                    file = Resolve(text, message => c.Error("permutations", message));
                    if (BlobRef.TryParseUri(file, out _)) throw c.Error("permutations", "a stored blob holds no K here: give K seeded draws, or the file");
                    try
                    {
                        count = SamplePermutations.Load(file).Count;
                    }
                    catch (Exception e) when (e is AlignmentException or IOException or UnauthorizedAccessException or TensorFileException)
                    {
                        throw c.Error("permutations", e.Message);
                    }
                }
            }
            var seed = c.Text("seed") is { } s ? ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong value) ? value
                : throw c.Error("seed", $"expected a whole number from 0 to {ulong.MaxValue}, got '{s}'") : (ulong?)null;
            LayerAggregate aggregate;
            try
            {
                aggregate = LayerAggregate.Parse(c.Text("aggregate") ?? "max");
            }
            catch (AlignmentException e)
            {
                throw c.Error("aggregate", e.Message);
            }
            var settings = new CalibrationSettings(count, c.Double("alpha") ?? 0.05, file is null ? seed ?? 0 : seed, file, aggregate,
                c.Double("fdr") ?? CalibrationSettings.DefaultFdr);
            try
            {
                settings.Validate(SweepValidation.SpecField);
            }
            catch (AlignmentException e)
            {
                // The message names the field: it is placed at that field's value in the file.
                string? key = CalibrationKeys.FirstOrDefault(k => c.Has(k) && e.Message.StartsWith(SweepValidation.SpecField(k), StringComparison.Ordinal));
                throw key is null ? c.Error(e.Message) : c.At(key, e.Message);
            }
            return settings;
        }

        return new SweepDefinition(
            spec.Required("name"),
            spec.Required("dataset"),
            spec.List("models").Select((node, i) => Model(new Mapping(path, node, $"models[{i}]", ModelKeys))).ToList(),
            spec.List("metrics").Select((node, i) => Metric(new Mapping(path, node, $"metrics[{i}]", MetricKeys))).ToList(),
            Data(),
            spec.Int("shard_size") ?? 256,
            Calibration());
    }

    /// <summary>The root of the file's one document.</summary>
    private static YamlNode Root(string path, string text)
    {
        var scanner = new Scanner(new StringReader(text));
        var stream = new YamlStream();
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            throw new SweepSpecException($"{path}:{e.Start.Line}:{e.Start.Column}: {e.Message}");
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, with no message, where a line inside [ ] or { } starts
            // left of where the bracketed value did: the brackets were not closed on their line.
            var at = scanner.CurrentPosition;
            throw new SweepSpecException($"{path}:{at.Line}:{at.Column}: a [ ] list or {{ }} mapping is not closed before this line");
        }
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode.Start;
            throw new SweepSpecException($"{path}:{second.Line}:{second.Column}: a spec is one YAML document; a second one starts here");
        }
        return stream.Documents.Count == 0 || Mapping.IsNull(stream.Documents[0].RootNode)
            ? throw new SweepSpecException($"{path}: the file is empty")
            : stream.Documents[0].RootNode;
    }

    /// <summary>
    /// One mapping of the spec (the file, a model, a metric): its keys checked against those the spec
    /// knows, its values read as the spec's kinds. A key given no value (or null, ~) counts as absent.
    /// </summary>
    private sealed class Mapping
    {
        private readonly string _path;
        private readonly YamlNode _node;
        private readonly Dictionary<string, YamlNode> _values = new(StringComparer.Ordinal);

        public Mapping(string path, YamlNode node, string field, string[] keys)
        {
            _path = path;
            _node = node;
            Field = field;
            string prefix = field.Length == 0 ? "" : $"{field}: ";
            if (node is not YamlMappingNode mapping) throw Error(node, $"{prefix}expected a mapping (key: value lines) here");
            foreach (var (key, value) in mapping.Children)
            {
                string name = key is YamlScalarNode { Value: { } k } ? k : key.ToString();
                if (!keys.Contains(name)) throw Error(key, $"{prefix}unknown key '{name}'");
                if (!IsNull(value)) _values[name] = value;
            }
        }

        /// <summary>Where the mapping is in the spec: "" for the file, <c>models[2]</c>, <c>metrics[0]</c>.</summary>
        public string Field { get; }

        public static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" or "Null" or "NULL" };

        public bool Has(string key) => _values.ContainsKey(key);

        public SweepSpecException Error(YamlNode at, string message) => new($"{_path}:{at.Start.Line}:{at.Start.Column}: {message}");

        /// <summary>An error about the mapping as a whole, at its first line.</summary>
        public SweepSpecException Error(string message) => Error(_node, message);

        /// <summary>An error about one key's value, at the value, naming the field.</summary>
        public SweepSpecException Error(string key, string message) => Error(_values[key], $"{Of(key)}: {message}");

        /// <summary>An error at one key's value whose message already names the field.</summary>
        public SweepSpecException At(string key, string message) => Error(_values[key], message);

        private string Of(string key) => Field.Length == 0 ? key : $"{Field}.{key}";

        private string? Scalar(string key, string kind) => _values.GetValueOrDefault(key) switch
        {
            null => null,
            YamlScalarNode s => s.Value,
            _ => throw Error(key, $"expected {kind} here"),
        };

        public string? Text(string key) => Scalar(key, "a single value (text)");

        public string Required(string key) =>
            Text(key) is { } text && !string.IsNullOrWhiteSpace(text) ? text : throw Error($"'{Of(key)}' is required");

        public int? Int(string key)
        {
            if (Scalar(key, "a number") is not { } text) return null;
            if (int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int value)) return value;
            throw Error(key, double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
                ? $"expected a whole number, got '{text}'"
                : $"expected a number, got '{text}'");
        }

        public bool? Bool(string key) => Scalar(key, "true or false") is not { } text ? null
            : bool.TryParse(text, out bool value) ? value
            : throw Error(key, $"expected true or false, got '{text}'");

        /// <summary>A nested mapping (its keys checked likewise); null when the key is absent.</summary>
        public Mapping? Child(string key, string[] keys) => Has(key) ? new Mapping(_path, _values[key], Of(key), keys) : null;

        public double? Double(string key) => Scalar(key, "a number") is not { } text ? null
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value
            : throw Error(key, $"expected a number, got '{text}'");

        /// <summary>The list's items; none when the key is absent.</summary>
        public IReadOnlyList<YamlNode> List(string key) => _values.GetValueOrDefault(key) switch
        {
            null => [],
            YamlSequenceNode sequence => sequence.Children.ToList(),
            _ => throw Error(key, "expected a list here"),
        };

        /// <summary>A list of single values; null when the key is absent.</summary>
        public IReadOnlyList<string>? Texts(string key) => !Has(key) ? null
            : List(key).Select((item, i) => item is YamlScalarNode { Value: { } text } && !IsNull(item) ? text
                : throw Error(item, $"{Of(key)}[{i}]: expected a single value (text) here")).ToList();

        /// <summary>A mapping of names to single values, in the file's order; null when the key is absent.</summary>
        public IReadOnlyList<(string Name, string Value, YamlNode Node)>? Names(string key)
        {
            if (!Has(key)) return null;
            if (_values[key] is not YamlMappingNode mapping) throw Error(key, "expected a mapping of names to values here");
            return mapping.Children.Select(entry =>
            {
                string name = entry.Key is YamlScalarNode { Value: { } k } ? k : entry.Key.ToString();
                return entry.Value is YamlScalarNode { Value: { } value } && !IsNull(entry.Value) ? (name, value, entry.Value)
                    : throw Error(entry.Value, $"{Of(key)}.{name}: expected a single value (text) here");
            }).ToList();
        }
    }
}

public sealed class SweepSpecException(string message) : Exception(message);
