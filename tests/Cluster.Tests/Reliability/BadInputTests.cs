using System.Buffers.Binary;
using System.Text;
using Prh.Cluster.Tests.Sweeps;
using Prh.Extraction.Onnx;
using Xunit.Abstractions;
using static Prh.Cluster.Tests.Sweeps.PrhProcesses;
using static Prh.TestSupport.PrhProcess;

namespace Prh.Cluster.Tests.Reliability;

/// <summary>
/// Malformed and hostile input that only a running sweep meets (feature files, models, dataset inputs, what
/// depends on N or the store), one row each, sent with <c>prh sweep run</c> to a running cluster of
/// processes: every row is answered by an error naming what is at fault, and afterwards the cluster is
/// healthy, an earlier sweep's results are byte for byte what they were, and re-reading them computes nothing.
/// A bad spec is refused before any of that; its rows are in <see cref="Specs.SweepSpecFileTests"/>.
/// </summary>
[Collection(ProcessCollection.Name)]
public sealed class BadInputTests(ITestOutputHelper output)
{
    private const int N = 128; // the fixture pipeline's sample count
    private const int Width = 4, Layers = 2;

    /// <param name="Name">The row, also the sweep's name where the name itself is not the fault.</param>
    /// <param name="Write">Writes the row's files into the folder and returns the spec's YAML.</param>
    /// <param name="Expected">Fragments the answer must hold (on stdout or stderr).</param>
    /// <param name="Fails">The sweep is refused or fails (exit 1); false: it completes with the bad model reported and left out.</param>
    private sealed record Row(string Name, Func<string, string> Write, string[] Expected, bool Fails = true);

    private static string Good => SweepTests.FileOf(SweepTests.VisionModels()[0]);

    /// <summary>A spec of one model <c>m</c> whose features are the file the row writes.</summary>
    private static Row FeatureFile(string name, string file, byte[] bytes, params string[] expected) => new(name, folder =>
    {
        File.WriteAllBytes(Path.Combine(folder, file), bytes);
        return Spec(name, $"  - id: {name}\n    features: {file}\n");
    }, [file, .. expected]);

    private static string Spec(string name, string models, string metrics = "  - name: cka\n", string dataset = "fixtures", string extra = "") =>
        $"name: {name}\ndataset: {dataset}\nmodels:\n{models}metrics:\n{metrics}{extra}";

    private static IEnumerable<Row> Rows()
    {
        // The spec: its faults are refused before anything runs (Specs/SweepSpecFileTests, no cluster); this
        // one row follows a refusal of the sweep grain's checks across the wire to the console.
        yield return new("id-traversal", _ => Spec("id-traversal", $"  - id: ../../etc/passwd\n    features: {Good}\n"), ["model id '../../etc/passwd' is not a safe name"]);
        // What depends on the data or the store, met only when the sweep runs.
        yield return new("topk-beyond-n", _ => Spec("topk-beyond-n", $"  - id: m\n    features: {Good}\n", $"  - name: cknna\n    topk: {N + 100}\n"),
            ["selected index k out of range"]);
        yield return new("missing-file", _ => Spec("missing-file", "  - id: m\n    features: nowhere.npy\n"), ["nowhere.npy"]);
        yield return new("blob-absent", _ => Spec("blob-absent", $"  - id: m\n    features: blob:sha256:{new string('a', 64)}:100\n"), [$"sha256:{new string('a', 64)}",
            "is not in"]);

        // .npy feature files.
        byte[] values = Floats(N * Layers * Width);
        yield return FeatureFile("npy-magic", "magic.npy", [.. "NOTNUMPY"u8, .. new byte[120]], "wrong magic");
        yield return FeatureFile("npy-huge-shape", "huge.npy", Npy("<f4", "(2000000000, 1000, 1000)", new byte[64]), "header declares 2000000000000000 values");
        yield return FeatureFile("npy-truncated", "truncated.npy", Npy("<f4", $"({N}, {Layers}, {Width})", values[..(values.Length / 2)]), "truncated");
        yield return FeatureFile("npy-nan", "nan.npy", Npy("<f4", $"({N}, {Layers}, {Width})", WithValue(values, 37, float.NaN)), "NaN at [4, 1, 1]");
        yield return FeatureFile("npy-inf", "inf.npy", Npy("<f4", $"({N}, {Layers}, {Width})", WithValue(values, 8, float.NegativeInfinity)), "at [1, 0, 0]",
            "non-finite values are not allowed");
        yield return FeatureFile("npy-fortran", "fortran.npy", Npy("<f4", $"({N}, {Layers}, {Width})", values, fortran: true), "Fortran-order");
        yield return FeatureFile("npy-big-endian", "big.npy", Npy(">f4", $"({N}, {Layers}, {Width})", values), "big-endian");
        yield return FeatureFile("npy-int", "int.npy", Npy("<i4", $"({N}, {Layers}, {Width})", values), "array holds int32 values; features must be floating point");
        yield return FeatureFile("npy-header-length", "hlen.npy", [0x93, .. "NUMPY"u8, 1, 0, 0xff, 0xf0, .. new byte[100]], "header length 61695 exceeds");
        yield return FeatureFile("npy-trailing", "trailing.npy", Npy("<f4", $"({N}, {Layers}, {Width})", [.. values, 1, 2, 3, 4]), "4 trailing bytes");
        yield return FeatureFile("npy-not-a-dict", "list.npy", NpyHeader("[1, 2, 3]", []), "cannot parse header dict");
        yield return FeatureFile("npy-negative-dim", "negative.npy", Npy("<f4", "(-128, 8)", []), "negative dimension -128");
        yield return FeatureFile("npy-rank-1", "rank1.npy", Npy("<f4", $"({N * 8},)", values), "has rank 1");

        // .safetensors feature files.
        byte[] layer = Floats(N * Width);
        string Layer(int i, long begin) => $"\"layers.{i}\":{{\"dtype\":\"F32\",\"shape\":[{N},{Width}],\"data_offsets\":[{begin},{begin + layer.Length}]}}";
        yield return FeatureFile("st-header-huge", "huge.safetensors", [.. BitConverter.GetBytes(1L << 62), .. "{}"u8], "is absurd");
        yield return FeatureFile("st-header-beyond", "beyond.safetensors", [.. BitConverter.GetBytes(5000L), .. "{}"u8], "header length 5000 exceeds");
        yield return FeatureFile("st-bad-json", "json.safetensors", Safetensors("{\"layers.0\": [", []), "invalid JSON header");
        yield return FeatureFile("st-offsets", "offsets.safetensors", Safetensors($"{{{Layer(0, 0)}}}", layer[..100]), "out of range");
        yield return FeatureFile("st-dtype", "dtype.safetensors",
            Safetensors($"{{\"layers.0\":{{\"dtype\":\"C64\",\"shape\":[{N},{Width / 2}],\"data_offsets\":[0,{layer.Length}]}}}}", layer), "unsupported dtype 'C64'");
        yield return FeatureFile("st-int", "int.safetensors",
            Safetensors($"{{\"layers.0\":{{\"dtype\":\"I64\",\"shape\":[{N},{Width / 2}],\"data_offsets\":[0,{layer.Length}]}}}}", new byte[layer.Length]),
            "tensor 'layers.0' holds int64 values; features must be floating point");
        yield return FeatureFile("st-nan", "nan.safetensors", Safetensors($"{{{Layer(0, 0)}}}", WithValue(layer, 9, float.NaN)), "tensor 'layers.0': NaN at [2, 1]");
        yield return FeatureFile("st-gap", "gap.safetensors", Safetensors($"{{{Layer(0, 0)},{Layer(2, layer.Length)}}}", [.. layer, .. layer]), "'layers.1' is missing");

        // N that does not match the dataset's: the good model is imported, the bad one is reported and left out.
        yield return new("mismatched-n", folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, "short.npy"), Npy("<f4", $"(64, {Layers}, {Width})", values[..(64 * Layers * Width * 4)]));
            return Spec("mismatched-n", $"  - id: ok\n    features: {Good}\n  - id: short\n    features: short.npy\n");
        }, ["model 'short'", "64", $"{N}"], Fails: false);

        // ONNX models and dataset inputs.
        string Onnx(string name, string model, string inputs = "  x: x.npy\n") => Spec(name, $"  - id: {name}\n    onnx: {model}\n    layer_op: Relu\n    pool: none\n",
            dataset: "onnx-bad", extra: $"inputs:\n{inputs}");
        void Inputs(string folder)
        {
            File.WriteAllBytes(Path.Combine(folder, "x.npy"), Npy("<f4", "(16, 6)", Floats(16 * 6)));
            File.WriteAllBytes(Path.Combine(folder, "mlp.onnx"), OnnxModelBuilder.Mlp(6, [8, 8], seed: 5).Bytes);
        }
        yield return new("onnx-garbage", folder =>
        {
            Inputs(folder); File.WriteAllBytes(Path.Combine(folder, "garbage.onnx"),
            Encoding.ASCII.GetBytes("this is not a protobuf")); return Onnx("onnx-garbage", "garbage.onnx");
        }, ["garbage.onnx"]);
        yield return new("onnx-truncated", folder =>
        {
            Inputs(folder);
            byte[] whole = File.ReadAllBytes(Path.Combine(folder, "mlp.onnx"));
            File.WriteAllBytes(Path.Combine(folder, "cut.onnx"), whole[..(whole.Length / 2)]);
            return Onnx("onnx-truncated", "cut.onnx");
        }, ["cut.onnx"]);
        yield return new("onnx-unknown-layer", folder =>
        {
            Inputs(folder);
            return Spec("onnx-unknown-layer", "  - id: onnx-unknown-layer\n    onnx: mlp.onnx\n    layers: [layer9/relu]\n    pool: none\n", dataset: "onnx-bad",
                extra: "inputs:\n  x: x.npy\n");
        }, ["layer9/relu"]);
        yield return new("onnx-inputs-n", folder =>
        {
            Inputs(folder);
            File.WriteAllBytes(Path.Combine(folder, "y.npy"), Npy("<f4", "(12, 6)", Floats(12 * 6)));
            return Onnx("onnx-inputs-n", "mlp.onnx", "  x: x.npy\n  y: y.npy\n");
        }, ["dataset inputs have different N"]);
        yield return new("onnx-input-nan", folder =>
        {
            Inputs(folder);
            File.WriteAllBytes(Path.Combine(folder, "x.npy"), Npy("<f4", "(16, 6)", WithValue(Floats(16 * 6), 20, float.NaN)));
            return Onnx("onnx-input-nan", "mlp.onnx");
        }, ["dataset input 'x'", "NaN at [3, 2]"]);
    }

    [Fact]
    public async Task Every_bad_input_gets_a_clear_error_and_leaves_the_cluster_and_earlier_results_intact()
    {
        string folder = Directory.CreateTempSubdirectory("prh-bad-").FullName;
        await using var cluster = await LoopbackCluster.Start(folder, 2, azurite: true);
        var models = SweepTests.VisionModels().Take(3).ToList();
        string good = WriteSpec(folder, "good", models, [("cka", null), ("mutual_knn", 10)]);
        var before = Run(["sweep", "run", good, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(before.ExitCode == 0, before.Stderr);
        double pairsBefore = await cluster.Metric("prh_pairs_scored_total");

        var rows = Rows().ToList();
        Assert.True(rows.Count >= 30, $"{rows.Count} rows");
        Assert.Equal(rows.Count, rows.Select(r => r.Name).Distinct().Count());
        var answers = await Task.WhenAll(rows.Select(async row =>
        {
            string rowFolder = Directory.CreateDirectory(Path.Combine(folder, row.Name)).FullName;
            string spec = Path.Combine(rowFolder, "bad.yaml");
            await File.WriteAllTextAsync(spec, row.Write(rowFolder));
            await Gate.WaitAsync(); // a few prh processes at a time
            try { return (row, await Task.Run(() => Run(["sweep", "run", spec, "--cluster", .. cluster.Gateways]))); }
            finally { Gate.Release(); }
        }));
        var wrong = new List<string>();
        foreach (var (row, answer) in answers)
        {
            string said = answer.Stdout + answer.Stderr;
            if ((answer.ExitCode != 0) != row.Fails) wrong.Add($"{row.Name}: exit {answer.ExitCode}: {said}");
            foreach (string fragment in row.Expected)
                if (!said.Contains(fragment, StringComparison.Ordinal)) wrong.Add($"{row.Name}: no '{fragment}' in: {said}");
            if (said.Contains("   at ", StringComparison.Ordinal)) wrong.Add($"{row.Name}: a stack trace instead of an error: {said}");
        }
        foreach (var (row, answer) in answers)
            output.WriteLine($"{row.Name}: exit {answer.ExitCode}: {answer.Stderr.Split('\n').LastOrDefault(l => l.StartsWith("prh: error") || l.Contains("errors:"))?.Trim()}");
        Assert.True(wrong.Count == 0, string.Join("\n\n", wrong));

        // Healthy, unchanged, and nothing recomputed.
        Assert.True(await cluster.AllReady());
        var after = Run(["sweep", "run", good, "--json", "--cluster", .. cluster.Gateways]);
        Assert.True(after.ExitCode == 0, after.Stderr);
        Assert.Equal(before.Stdout, after.Stdout);
        Assert.Equal(pairsBefore, await cluster.Metric("prh_pairs_scored_total")); // the mismatched-N row's good model is the good sweep's first: its pairs are stored
    }

    private static readonly SemaphoreSlim Gate = new(3);

    private static byte[] Floats(int count)
    {
        var random = new Random(count);
        var bytes = new byte[count * 4];
        for (int i = 0; i < count; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), (float)(random.NextDouble() * 2 - 1));
        return bytes;
    }

    private static byte[] WithValue(byte[] floats, int index, float value)
    {
        byte[] copy = (byte[])floats.Clone();
        BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(index * 4), value);
        return copy;
    }

    private static byte[] Npy(string descr, string shape, byte[] data, bool fortran = false) =>
        NpyHeader($"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}", data);

    /// <summary>A version 1.0 .npy: magic, version, header length, the header padded to 64 bytes with a newline, then the data.</summary>
    private static byte[] NpyHeader(string dict, byte[] data)
    {
        int padded = (10 + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(padded - 10 - 1) + "\n";
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)(header.Length & 0xff), (byte)(header.Length >> 8), .. Encoding.ASCII.GetBytes(header), .. data];
    }

    private static byte[] Safetensors(string header, byte[] data) =>
        [.. BitConverter.GetBytes((long)Encoding.UTF8.GetByteCount(header)), .. Encoding.UTF8.GetBytes(header), .. data];
}
