using System.CommandLine;
using Prh.Alignment.IO;
using Prh.Extraction;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh extract MODEL.onnx --input NAME=FILE ... (--layers T1,T2 | --layer-op OP) [--pool P]
/// [--mask INPUT] [--batch B] [--preprocess PRE.onnx] --out FILE</c>: runs the model with ONNX Runtime on
/// the inputs (axis 0 = samples), through the preprocessing model first when one is given, and saves the
/// chosen tensors, pooled per sample, as a feature file (N x L x D .npy when the layers share a width,
/// else .safetensors layers.i). A model whose inputs fix the batch axis needs no --batch: it runs batched
/// where the axis can be made symbolic, one fixed-size batch at a time otherwise.
/// </summary>
internal static class ExtractCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx model file" };
        var inputs = new Option<string[]>("--input")
        {
            Description = "A model input: NAME=FILE (.npy, or .safetensors holding one tensor or one named NAME), axis 0 = samples; repeat per input",
            Required = true,
            Arity = ArgumentArity.OneOrMore,
        };
        var layers = new Option<string?>("--layers") { Description = "Tensors to extract, comma-separated, in this order (prh inspect lists them)" };
        var layerOp = new Option<string?>("--layer-op") { Description = "Extract the output of every node of this op type (e.g. Relu), in graph order" };
        var pool = new Option<string>("--pool")
        {
            Description = "How a tensor becomes one vector per sample: none, mean, first or last for [batch, tokens, D] tensors; mean (= spatial_mean) " +
            "or spatial_max for [batch, C, H, W] tensors; [batch, D] tensors are taken as they are",
            DefaultValueFactory = _ => "mean"
        };
        var mask = new Option<string?>("--mask") { Description = "The model input holding the [N, tokens] mask (non-zero = valid) that mean and last pooling respect" };
        var batch = new Option<int>("--batch")
        {
            Description = "Samples per ONNX Runtime run (a model whose fixed batch axis cannot be made symbolic runs its fixed size)",
            DefaultValueFactory = _ => 32,
        };
        var preprocess = new Option<string?>("--preprocess")
        {
            Description = "A preprocessing .onnx model run on the inputs first: its outputs feed the model's inputs of the same names (or its one output " +
            "the model's one input)",
        };
        var output = new Option<string>("--out") { Description = "Feature file to write (.npy or .safetensors)", Required = true };
        var command = new Command("extract", "Run an ONNX model on inputs and save chosen intermediate tensors, pooled per sample, as a feature file.")
        {
            model, inputs, layers, layerOp, pool, mask, batch, preprocess, output,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            string modelPath = parse.GetValue(model)!, outPath = parse.GetValue(output)!;
            string? names = parse.GetValue(layers), op = parse.GetValue(layerOp);
            if ((names is null) == (op is null))
                throw new ExtractionException("give the layers to extract with either --layers T1,T2,... or --layer-op OP (not both)");
            string ext = Path.GetExtension(outPath).ToLowerInvariant();
            if (ext is not (".npy" or ".safetensors"))
                throw new TensorFileException(outPath, $"unsupported feature file extension '{(ext.Length == 0 ? "(none)" : ext)}'; expected .npy or .safetensors");
            var selection = names is not null
                ? LayerSelection.ByNames(names.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                : LayerSelection.ByOp(op!);
            var options = new ExtractionOptions
            {
                Layers = selection,
                Pooling = PoolingNames.Parse(parse.GetValue(pool)!),
                MaskInput = parse.GetValue(mask),
                BatchSize = parse.GetValue(batch),
            };
            if (parse.GetValue(preprocess) is { } preprocessPath)
                options = options with { Preprocess = ReadModel(preprocessPath), PreprocessSource = preprocessPath };
            var tensors = ReadInputs(parse.GetValue(inputs)!);
            using var extractor = FeatureExtractor.FromFile(modelPath, options);
            // Refuse before the run what FeatureFile.Save would refuse after it.
            if (ext == ".npy" && extractor.KnownWidths.All(w => w is not null) && extractor.KnownWidths.Distinct().Count() > 1)
                throw new TensorFileException(outPath,
                    $"layers differ in width ({string.Join(", ", extractor.KnownWidths)}); a .npy file holds one N x L x D array, save as .safetensors (one layers.<i> " +
                        $"tensor per layer)");
            var features = extractor.Extract(tensors);
            FeatureFile.Save(outPath, features);
            var widths = features.Layers.Select(l => l.Width).Distinct().ToList();
            Console.Out.WriteLine(
                $"{modelPath}: {features.LayerCount} layers ({string.Join(", ", extractor.Layers)}) x {features.SampleCount} samples, " +
                $"width {string.Join("/", widths)}, pool {PoolingNames.Name(options.Pooling)}, {extractor.Batch}, {extractor.SamplesPerRun(features.SampleCount)} samples per run, " +
                $"on {extractor.ExecutionProvider} -> {outPath}");
            return 0;
        }));
        return command;
    }

    private static byte[] ReadModel(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExtractionException($"{path}: cannot read the preprocessing model: {e.Message}", e);
        }
    }

    /// <summary>NAME=FILE pairs, each file read as one tensor.</summary>
    internal static Dictionary<string, Tensor> ReadInputs(IEnumerable<string> specs)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (string spec in specs)
        {
            int eq = spec.IndexOf('=');
            if (eq <= 0 || eq == spec.Length - 1)
                throw new ExtractionException($"--input '{spec}' is not NAME=FILE");
            string name = spec[..eq], path = spec[(eq + 1)..];
            if (!result.TryAdd(name, ReadTensor(name, path)))
                throw new ExtractionException($"--input '{name}' is given more than once");
        }
        return result;
    }

    private static Tensor ReadTensor(string name, string path)
    {
        switch (Path.GetExtension(path).ToLowerInvariant())
        {
            case ".npy":
                return NpyFile.Read(path);
            case ".safetensors":
            {
                var tensors = SafetensorsFile.Read(path);
                if (tensors.Count == 1) return tensors[0];
                return tensors.FirstOrDefault(t => t.Name == name)
                    ?? throw new TensorFileException(path,
                        $"holds {tensors.Count} tensors ({string.Join(", ", tensors.Select(t => t.Name))}) and none named '{name}'; give input '{name}' a file with one " +
                            $"tensor or one named '{name}'");
            }
            default:
                throw new TensorFileException(path, $"unsupported input file extension '{Path.GetExtension(path)}'; expected .npy or .safetensors");
        }
    }
}
