using Prh.Alignment.Calibration;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Client.Sweeps;
using Prh.Contracts;
using Prh.Contracts.Datasets;
using Prh.Contracts.Sweeps;
using Prh.Extraction;
using Prh.Grains.Sweeps;

namespace Prh.Cluster.Tests.Specs;

/// <summary>
/// A spec file read and checked as <c>prh sweep run</c> and the sweep grain read and check it, with no
/// cluster and no process: every bad spec is refused with the message it gets on the console, and a good
/// one becomes the definition it says.
/// </summary>
public sealed class SweepSpecFileTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("prh-spec-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Write(string yaml)
    {
        string path = Path.Combine(_folder, "bad.yaml");
        File.WriteAllText(path, yaml);
        return path;
    }

    private static string Spec(string name, string models, string metrics = "  - name: cka\n", string dataset = "fixtures", string extra = "") =>
        $"name: {name}\ndataset: {dataset}\nmodels:\n{models}metrics:\n{metrics}{extra}";

    private const string OneModel = "  - id: m\n    features: m.npy\n";
    private const string OnnxModel = "  - id: m\n    onnx: m.onnx\n    layer_op: Relu\n";
    private const string SafeName = "is not a safe name (letters, digits, '.', '_', '-'; at most 128)";
    private const string NotABlob = "is not a blob reference (blob:sha256:<64 lower-case hex digits>:<length>)";

    /// <summary>Refused by the file itself: the message, with the file's path written as bad.yaml.</summary>
    public static TheoryData<string, string, string> RefusedByTheFile => new()
    {
        { "yaml-syntax", "name: [unclosed\nmodels:\n", "bad.yaml:2:1: a [ ] list or { } mapping is not closed before this line" },
        { "yaml-flow-unclosed", "name: [unclosed\n", "bad.yaml:2:1: While parsing a flow sequence, did not find expected ',' or ']'." },
        { "yaml-broken", "name: x\nmodels:\n  - id: m\n   features: {\n", "bad.yaml:4:4: While parsing a block collection, did not find expected '-' indicator." },
        { "duplicate-key", "name: a\nname: b\n", "bad.yaml:2:1: Duplicate key name" },
        { "two-documents", Spec("s", OneModel) + "---\nname: t\n", "bad.yaml:9:1: a spec is one YAML document; a second one starts here" },
        { "empty-spec", "", "bad.yaml: the file is empty" },
        { "only-comments", "# nothing yet\n", "bad.yaml: the file is empty" },
        { "a-list-not-a-spec", "- name: s\n", "bad.yaml:1:1: expected a mapping (key: value lines) here" },
        { "unknown-key", Spec("s", OneModel, extra: "modles: []\n"), "bad.yaml:8:1: unknown key 'modles'" },
        { "unknown-model-key", Spec("s", "  - id: m\n    featurs: m.npy\n"), "bad.yaml:5:5: models[0]: unknown key 'featurs'" },
        { "unknown-metric-key", Spec("s", OneModel, "  - name: cka\n    kernel: rbf\n"), "bad.yaml:8:5: metrics[0]: unknown key 'kernel'" },
        { "name-a-list", "name: [a, b]\n", "bad.yaml:1:7: name: expected a single value (text) here" },
        { "models-not-a-list", "name: s\ndataset: fixtures\nmodels: 3\nmetrics:\n  - name: cka\n", "bad.yaml:3:9: models: expected a list here" },
        { "model-not-a-mapping", Spec("s", "  - m.npy\n"), "bad.yaml:4:5: models[0]: expected a mapping (key: value lines) here" },
        { "layers-not-a-list", Spec("s", "  - id: m\n    onnx: m.onnx\n    layers: layer0\n"), "bad.yaml:6:13: models[0].layers: expected a list here" },
        { "layer-a-list", Spec("s", "  - id: m\n    onnx: m.onnx\n    layers: [a, [b]]\n"), "bad.yaml:6:17: models[0].layers[1]: expected a single value (text) here" },
        { "model-inputs-a-list", Spec("s", "  - id: m\n    onnx: m.onnx\n    inputs: [x]\n"), "bad.yaml:6:13: models[0].inputs: expected a mapping of names to values here" },
        { "input-without-file", Spec("s", OnnxModel, extra: "inputs:\n  x:\n"), "bad.yaml:10:5: inputs.x: expected a single value (text) here" },
        { "shard-size-text", Spec("s", OneModel, extra: "shard_size: many\n"), "bad.yaml:8:13: shard_size: expected a number, got 'many'" },
        { "shard-size-fraction", Spec("s", OneModel, extra: "shard_size: 2.5\n"), "bad.yaml:8:13: shard_size: expected a whole number, got '2.5'" },
        { "topk-a-list", Spec("s", OneModel, "  - name: mutual_knn\n    topk: [10]\n"), "bad.yaml:8:11: metrics[0].topk: expected a number here" },
        { "sigma-text", Spec("s", OneModel, "  - name: cka\n    kernel_metric: rbf\n    rbf_sigma: wide\n"), "bad.yaml:9:16: metrics[0].rbf_sigma: expected a number, got 'wide'" },
        { "no-name", "dataset: fixtures\nmodels:\n" + OneModel + "metrics:\n  - name: cka\n", "bad.yaml:1:1: 'name' is required" },
        { "blank-dataset", Spec("s", OneModel, dataset: "' '"), "bad.yaml:1:1: 'dataset' is required" },
        { "no-model-id", Spec("s", "  - features: m.npy\n"), "bad.yaml:4:5: 'models[0].id' is required" },
        { "no-metric-name", Spec("s", OneModel, "  - topk: 10\n"), "bad.yaml:7:5: 'metrics[0].name' is required" },
        { "features-and-onnx", Spec("s", "  - id: m\n    features: m.npy\n    onnx: m.onnx\n"), "bad.yaml:4:5: models[0] ('m') needs either features or onnx" },
        { "neither-features-nor-onnx", Spec("s", OneModel + "  - id: n\n    layer_op: Relu\n"), "bad.yaml:6:5: models[1] ('n') needs either features or onnx" },
        { "unknown-metric", Spec("s", OneModel, "  - name: mutual_knnn\n    topk: 10\n"),
            "bad.yaml:7:5: metrics[0] ('mutual_knnn'): Unrecognized metric: 'mutual_knnn'; expected one of mutual_knn, cycle_knn, lcs_knn, edit_distance_knn, cka, " +
                "unbiased_cka, cknna, svcca" },
        { "topk-zero", Spec("s", OneModel, "  - name: mutual_knn\n    topk: 0\n"), "bad.yaml:7:5: metrics[0] ('mutual_knn'): mutual_knn: topk must be at least 1, got 0" },
        { "topk-negative", Spec("s", OneModel, "  - name: cka\n  - name: cycle_knn\n    topk: -3\n"),
            "bad.yaml:8:5: metrics[1] ('cycle_knn'): cycle_knn: topk must be at least 1, got -3" },
        { "cknna-topk-1", Spec("s", OneModel, "  - name: cknna\n    topk: 1\n"), "bad.yaml:7:5: metrics[0] ('cknna'): CKNNA requires topk >= 2" },
        { "kernel-unknown", Spec("s", OneModel, "  - name: cka\n    kernel_metric: poly\n"), "bad.yaml:7:5: metrics[0] ('cka'): Invalid kernel metric poly" },
        { "cca-dim-zero", Spec("s", OneModel, "  - name: svcca\n    cca_dim: 0\n"), "bad.yaml:7:5: metrics[0] ('svcca'): svcca: cca_dim must be at least 1, got 0" },
        { "pool-unknown", Spec("s", OnnxModel + "    pool: max\n", extra: "inputs:\n  x: x.npy\n"),
            "bad.yaml:7:11: models[0].pool: unknown pooling 'max'; expected none, mean, first, last, spatial_mean or spatial_max" },
        { "blob-name-traversal", Spec("s", "  - id: m\n    features: blob:sha256:../../../etc/passwd:1\n"),
            $"bad.yaml:5:15: models[0].features: 'blob:sha256:../../../etc/passwd:1' {NotABlob}" },
        { "onnx-blob-short", Spec("s", "  - id: m\n    onnx: blob:sha256:abc:1\n    layer_op: Relu\n"), $"bad.yaml:5:11: models[0].onnx: 'blob:sha256:abc:1' {NotABlob}" },
        { "calibration-not-a-mapping", Spec("s", OneModel, extra: "calibration: 200\n"), "bad.yaml:8:14: calibration: expected a mapping (key: value lines) here" },
        { "calibration-unknown-key", Spec("s", OneModel, extra: "calibration:\n  permutation: 200\n"), "bad.yaml:9:3: calibration: unknown key 'permutation'" },
        { "calibration-k-zero", Spec("s", OneModel, extra: "calibration:\n  permutations: 0\n"),
            "bad.yaml:9:17: calibration.permutations: the number of permutations K must be at least 1, got 0" },
        { "calibration-k-negative", Spec("s", OneModel, extra: "calibration:\n  alpha: 0.1\n  permutations: -5\n"),
            "bad.yaml:10:17: calibration.permutations: the number of permutations K must be at least 1, got -5" },
        { "calibration-alpha-one", Spec("s", OneModel, extra: "calibration:\n  alpha: 1\n"), "bad.yaml:9:10: calibration.alpha must lie strictly inside (0, 1), got 1" },
        { "calibration-alpha-text", Spec("s", OneModel, extra: "calibration:\n  alpha: low\n"), "bad.yaml:9:10: calibration.alpha: expected a number, got 'low'" },
        { "calibration-fdr-zero", Spec("s", OneModel, extra: "calibration:\n  fdr: 0\n"),
            "bad.yaml:9:8: calibration.fdr (the false discovery rate q) must lie strictly inside (0, 1), got 0" },
        { "calibration-seed-negative", Spec("s", OneModel, extra: "calibration:\n  seed: -1\n"),
            "bad.yaml:9:9: calibration.seed: expected a whole number from 0 to 18446744073709551615, got '-1'" },
        { "calibration-aggregate-unknown", Spec("s", OneModel, extra: "calibration:\n  aggregate: median\n"),
            "bad.yaml:9:14: calibration.aggregate: aggregate 'median' is not one of max, mean, rowmax_mean, colmax_mean, topk_mean:K, hungarian" },
        { "calibration-topk-without-k", Spec("s", OneModel, extra: "calibration:\n  aggregate: topk_mean\n"),
            "bad.yaml:9:14: calibration.aggregate: aggregate 'topk_mean' needs its k: topk_mean:K" },
        { "calibration-stored-permutations", Spec("s", OneModel, extra: $"calibration:\n  permutations: blob:sha256:{new string('a', 64)}:100\n"),
            "bad.yaml:9:17: calibration.permutations: a stored blob holds no K here: give K seeded draws, or the file" },
        { "input-blob-upper-case", Spec("s", OnnxModel, extra: $"inputs:\n  x: blob:sha256:{new string('A', 64)}:10\n"),
            $"bad.yaml:10:6: inputs.x: 'blob:sha256:{new string('A', 64)}:10' {NotABlob}" },
    };

    /// <summary>Read from the file, then refused by the checks the sweep grain runs before anything else.</summary>
    public static TheoryData<string, string, string> RefusedByTheChecks => new()
    {
        { "no-models", Spec("s", ""), "models: a sweep needs at least one model" },
        { "models-empty", Spec("s", "  []\n"), "models: a sweep needs at least one model" },
        { "no-metrics", "name: s\ndataset: fixtures\nmodels:\n" + OneModel, "metrics: a sweep needs at least one metric" },
        { "duplicate-ids", Spec("s", OneModel + OneModel), "model id 'm' appears twice" },
        { "id-traversal", Spec("s", "  - id: ../../etc/passwd\n    features: m.npy\n"), $"model id '../../etc/passwd' {SafeName}" },
        { "id-absolute", Spec("s", "  - id: /etc/passwd\n    features: m.npy\n"), $"model id '/etc/passwd' {SafeName}" },
        { "id-dotdot", Spec("s", "  - id: a..b\n    features: m.npy\n"), $"model id 'a..b' {SafeName}" },
        { "id-too-long", Spec("s", $"  - id: {new string('m', 129)}\n    features: m.npy\n"), $"model id '{new string('m', 129)}' {SafeName}" },
        { "dataset-traversal", Spec("s", OneModel, dataset: "../../x"), $"dataset '../../x' {SafeName}" },
        { "name-traversal", Spec("../evil", OneModel), $"sweep name '../evil' {SafeName}" },
        { "metric-twice", Spec("s", OneModel, "  - name: cka\n  - name: cka\n"), "metric 'cka' appears twice" },
        { "knn-twice-by-default", Spec("s", OneModel, "  - name: mutual_knn\n  - name: mutual_knn\n    topk: 10\n"), "metric 'mutual_knn@10' appears twice" },
        { "onnx-without-layers", Spec("s", "  - id: m\n    onnx: m.onnx\n", extra: "inputs:\n  x: x.npy\n"), "model 'm': give either layers or layer_op" },
        { "onnx-layers-and-op", Spec("s", OnnxModel + "    layers: [a]\n", extra: "inputs:\n  x: x.npy\n"), "model 'm': give either layers or layer_op" },
        { "onnx-without-inputs", Spec("s", OnnxModel), "model 'm' is an ONNX model, so the dataset needs inputs (inputs, or build)" },
        { "shard-size-zero", Spec("s", OnnxModel, extra: "inputs:\n  x: x.npy\nshard_size: 0\n"), "shard_size must be at least 1, got 0" },
    };

    [Theory]
    [MemberData(nameof(RefusedByTheFile))]
    public void A_bad_spec_is_refused_by_the_file_at_its_line_column_and_field(string row, string yaml, string expected)
    {
        string path = Write(yaml);
        var refusal = Assert.Throws<SweepSpecException>(() => SweepSpecFile.Load(path));
        string said = refusal.Message.Replace(path, "bad.yaml");
        Assert.True(expected == said, $"{row}: expected\n{expected}\ngot\n{said}");
    }

    [Theory]
    [MemberData(nameof(RefusedByTheChecks))]
    public void A_bad_definition_is_refused_by_the_checks_before_anything_runs(string row, string yaml, string expected)
    {
        var definition = SweepSpecFile.Load(Write(yaml));
        var refusal = Assert.Throws<RefusalException>(() => SweepValidation.Check(definition));
        Assert.True(expected == refusal.Message, $"{row}: expected\n{expected}\ngot\n{refusal.Message}");
    }

    [Fact]
    public void A_good_spec_becomes_the_definition_it_says()
    {
        string blob = $"blob:sha256:{new string('a', 64)}:100";
        string path = Write($"""
            # every field the spec knows
            name: full
            dataset: wit-1024
            models:
              - id: dinov2_b
                features: features/dinov2_b.npy
              - id: stored
                features: {blob}
              - id: mlp
                onnx: models/mlp.onnx
                layers: [layer0/relu, layer1/relu]
                pool: none
              - id: tok
                onnx: /abs/tok.onnx
                layer_op: Add
                mask: mask
                inputs: {"{x: tokens}"}
                layers:
            inputs:
              x: data/x.npy
              tokens: {blob}
              mask: 'data/mask.npy'
            shard_size: 64
            metrics:
              - name: mutual_knn
                topk: 5
              - name: cycle_knn
              - name: cka
                kernel_metric: rbf
                rbf_sigma: 0.5
              - name: unbiased_cka
              - name: cknna
              - name: svcca
                cca_dim: 20
                topk: 3
            """);
        var definition = SweepSpecFile.Load(path);
        SweepValidation.Check(definition);
        string In(string relative) => Path.Combine(_folder, relative);
        var expected = new SweepDefinition("full", "wit-1024",
        [
            new ModelDefinition("dinov2_b", In("features/dinov2_b.npy")),
            new ModelDefinition("stored", blob),
            new ModelDefinition("mlp", null, new OnnxSource(In("models/mlp.onnx"), ["layer0/relu", "layer1/relu"], Pool: Pooling.None)),
            new ModelDefinition("tok", null, new OnnxSource("/abs/tok.onnx", LayerOp: "Add", Pool: Pooling.Mean, Mask: "mask",
                Inputs: new Dictionary<string, string> { ["x"] = "tokens" })),
        ],
        [.. new[] { "mutual_knn@5", "cycle_knn@10", "cka-rbf-s0.5", "unbiased_cka", "cknna@10", "svcca-d20" }.Select(MetricSpec.Parse)],
        new DatasetSource(new Dictionary<string, string> { ["x"] = In("data/x.npy"), ["tokens"] = blob, ["mask"] = In("data/mask.npy") }),
        ShardSize: 64);
        Assert.Equal(expected, definition);
        Assert.Equal(new[] { "x", "tokens", "mask" }, definition.Data!.Files!.Keys);
        Assert.Null(definition.Models[3].Onnx!.Layers); // "layers:" with no value is absent, as if not written
    }

    [Fact]
    public void Defaults_fill_what_a_short_spec_leaves_out()
    {
        var definition = SweepSpecFile.Load(Write(Spec("s", OnnxModel + "    mask: ~\n", "  - name: mutual_knn\n", extra: "inputs:\n  x: x.npy\n")));
        Assert.Equal(256, definition.ShardSize);
        Assert.Equal(Pooling.Mean, definition.Models[0].Onnx!.Pool);
        Assert.Null(definition.Models[0].Onnx!.Mask);
        Assert.Equal("mutual_knn@10", Assert.Single(definition.Metrics).Key); // compute_score's topk
    }

    [Fact]
    public void A_calibration_block_becomes_the_settings_it_says_and_defaults_fill_the_rest()
    {
        var full = SweepSpecFile.Load(Write(Spec("s", OneModel, extra: "calibration:\n  permutations: 50\n  alpha: 0.1\n  seed: 7\n  aggregate: row_max_mean\n  fdr: 0.2\n")));
        SweepValidation.Check(full);
        Assert.Equal(new CalibrationSettings(50, 0.1, 7, null, LayerAggregate.RowMaxMean, 0.2), full.Calibration);
        var defaults = SweepSpecFile.Load(Write(Spec("s", OneModel, extra: "calibration:\n  alpha: 0.05\n")));
        Assert.Equal(new CalibrationSettings(200, 0.05, 0, null, LayerAggregate.Max, 0.05), defaults.Calibration);
        Assert.Null(SweepSpecFile.Load(Write(Spec("s", OneModel))).Calibration);
    }

    [Fact]
    public void Recorded_permutations_are_read_for_their_K_and_a_bad_file_is_refused_naming_it()
    {
        string perms = Path.Combine(_folder, "perms.npy");
        NpyFile.Write(perms, [3, 4], [0, 1, 2, 3, 3, 2, 1, 0, 1, 0, 3, 2], TensorDType.Int64);
        var recorded = SweepSpecFile.Load(Write(Spec("s", OneModel, extra: "calibration:\n  permutations: perms.npy\n")));
        SweepValidation.Check(recorded);
        Assert.Equal(new CalibrationSettings(3, 0.05, null, perms, LayerAggregate.Max, 0.05), recorded.Calibration);

        var seeded = Assert.Throws<SweepSpecException>(() => SweepSpecFile.Load(Write(Spec("s", OneModel, extra: "calibration:\n  permutations: perms.npy\n  seed: 3\n"))));
        Assert.Equal("bad.yaml:10:9: calibration.seed and calibration.permutations exclude each other: recorded permutations take no seed",
            seeded.Message.Replace(Path.Combine(_folder, "bad.yaml"), "bad.yaml"));

        string floats = Path.Combine(_folder, "floats.npy");
        NpyFile.Write(floats, [1, 2], [0, 1]);
        foreach (var (file, phrase) in new[] { ("floats.npy", "permutations must be integers"), ("absent.npy", "absent.npy") })
        {
            var refusal = Assert.Throws<SweepSpecException>(() => SweepSpecFile.Load(Write(Spec("s", OneModel, extra: $"calibration:\n  permutations: {file}\n"))));
            Assert.StartsWith(Path.Combine(_folder, "bad.yaml") + ":9:17: calibration.permutations: ", refusal.Message);
            Assert.Contains(phrase, refusal.Message);
        }
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = Path.Combine(_folder, "absent.yaml");
        var refusal = Assert.Throws<SweepSpecException>(() => SweepSpecFile.Load(path));
        Assert.StartsWith($"{path}: ", refusal.Message);
        Assert.Contains("absent.yaml", refusal.Message[(path.Length + 2)..]);
    }
}
