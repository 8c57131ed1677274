using System.Globalization;
using Google.Protobuf;
using Prh.Extraction.Onnx.Proto;
using DataType = Prh.Extraction.Onnx.Proto.TensorProto.Types.DataType;

namespace Prh.Extraction.Onnx;

/// <summary>
/// A graph input or output: its name, element type (an ONNX data type name such as <c>float</c>,
/// <c>int64</c>; <c>null</c> when the file does not say) and shape, one entry per axis: a number, a
/// symbolic name (<c>batch</c>) or <c>?</c> for an unnamed unknown. <see cref="Shape"/> is null when
/// the file gives no shape.
/// </summary>
public sealed record OnnxValue(string Name, string? ElementType, IReadOnlyList<string>? Shape)
{
    public string ShapeText => Shape is null ? "?" : "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// An intermediate tensor: the output of a node, with the node's op type and name, and its type and
/// shape where the file records them (value_info, or a graph output's declaration).
/// </summary>
public sealed record OnnxTensor(string Name, string OpType, string NodeName, int NodeIndex, string? ElementType, IReadOnlyList<string>? Shape)
{
    public string ShapeText => Shape is null ? "?" : "[" + string.Join(", ", Shape) + "]";
}

/// <summary>
/// An ONNX model read for inspection and editing: its graph inputs (initializers excluded), outputs
/// and every intermediate tensor in node order. <see cref="WithOutputs"/> writes a copy in which
/// chosen tensors are graph outputs; fields this reader does not model are kept in the copy.
/// </summary>
public sealed class OnnxGraph
{
    private readonly ModelProto _model;
    private readonly Dictionary<string, OnnxTensor> _byName;

    private OnnxGraph(ModelProto model, string source)
    {
        _model = model;
        Source = source;
        var graph = model.Graph;
        var declared = new Dictionary<string, ValueInfoProto>(StringComparer.Ordinal);
        foreach (var v in graph.ValueInfo) declared.TryAdd(v.Name, v);
        foreach (var v in graph.Output) declared.TryAdd(v.Name, v);

        var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        Inputs = graph.Input.Where(v => !initializers.Contains(v.Name)).Select(Describe).ToList();
        Outputs = graph.Output.Select(Describe).ToList();

        var tensors = new List<OnnxTensor>();
        _byName = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        for (int i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            foreach (string output in node.Output)
            {
                if (output.Length == 0) continue; // an omitted optional output
                var info = declared.GetValueOrDefault(output) is { } v ? Describe(v) : null;
                var tensor = new OnnxTensor(output, node.OpType, node.Name, i, info?.ElementType, info?.Shape);
                if (_byName.TryAdd(output, tensor)) tensors.Add(tensor);
            }
        }
        Tensors = tensors;
    }

    /// <summary>Where the model came from (a file path or a description), as errors name it.</summary>
    public string Source { get; }

    public IReadOnlyList<OnnxValue> Inputs { get; }
    public IReadOnlyList<OnnxValue> Outputs { get; }

    /// <summary>Every node output, in node order.</summary>
    public IReadOnlyList<OnnxTensor> Tensors { get; }

    public long IrVersion => _model.IrVersion;
    public string ProducerName => _model.ProducerName;

    /// <summary>The opsets the model imports, "domain:version" (the default domain is written "ai.onnx").</summary>
    public IReadOnlyList<string> Opsets =>
        _model.OpsetImport.Select(o => $"{(string.IsNullOrEmpty(o.Domain) ? "ai.onnx" : o.Domain)}:{o.Version}").ToList();

    /// <summary>The parsed model, for callers that need a field this class does not surface.</summary>
    public ModelProto Model => _model;

    public static OnnxGraph Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExtractionException($"{path}: cannot read the model: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses .onnx bytes; <paramref name="source"/> names them in errors.</summary>
    public static OnnxGraph Parse(byte[] bytes, string source = "model")
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ModelProto model;
        try
        {
            model = ModelProto.Parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new ExtractionException($"not an ONNX model: {source} ({bytes.Length} bytes) is not a valid ONNX protobuf, or is truncated: {e.Message}", e);
        }
        if (model.Graph is null || !model.HasIrVersion || model.IrVersion <= 0)
            throw new ExtractionException(
                $"not an ONNX model: {source} ({bytes.Length} bytes) parses as protobuf but has no {(model.Graph is null ? "graph" : "IR version")}");
        if (model.Graph.Node.Any(n => !n.HasOpType || n.OpType.Length == 0))
            throw new ExtractionException($"not an ONNX model: {source} has a node without an op type (a damaged or truncated file?)");
        return new OnnxGraph(model, source);
    }

    /// <summary>Whether <paramref name="name"/> is a node output.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The node output called <paramref name="name"/>; an unknown name is an error naming it.</summary>
    public OnnxTensor GetTensor(string name) =>
        _byName.TryGetValue(name, out var t) ? t : throw UnknownTensor(name);

    /// <summary>The outputs of every node of <paramref name="opType"/> (case-sensitive, as ONNX), in node order.</summary>
    public IReadOnlyList<string> TensorsByOp(string opType) =>
        Tensors.Where(t => string.Equals(t.OpType, opType, StringComparison.Ordinal)).Select(t => t.Name).ToList();

    /// <summary>The op types in the graph, each once, in order of first appearance.</summary>
    public IReadOnlyList<string> OpTypes => Tensors.Select(t => t.OpType).Distinct().ToList();

    /// <summary>
    /// The model's bytes with every tensor of <paramref name="tensorNames"/> a graph output (those already
    /// outputs are left as they are; the existing outputs stay). A new output is declared with the type
    /// and shape the file records for the tensor, or with no type, which ONNX Runtime infers.
    /// </summary>
    public byte[] WithOutputs(IEnumerable<string> tensorNames)
    {
        ArgumentNullException.ThrowIfNull(tensorNames);
        var edited = _model.Clone();
        var graph = edited.Graph;
        var outputs = new HashSet<string>(graph.Output.Select(o => o.Name), StringComparer.Ordinal);
        foreach (string name in tensorNames)
        {
            GetTensor(name); // unknown names fail here
            if (!outputs.Add(name)) continue;
            var declared = graph.ValueInfo.FirstOrDefault(v => v.Name == name);
            graph.Output.Add(declared?.Clone() ?? new ValueInfoProto { Name = name });
        }
        return edited.ToByteArray();
    }

    /// <summary>
    /// The size the inputs fix the sample axis (axis 0) at, as exporters that traced one example write
    /// it (ResNet18: [1, 3, 224, 224]); null when every input leaves it free (a symbolic name or no size).
    /// Inputs that fix it at different sizes are an error naming them.
    /// </summary>
    public int? FixedBatch()
    {
        OnnxValue? first = null;
        foreach (var input in Inputs)
        {
            if (input.Shape is not [var axis0, ..] || !int.TryParse(axis0, NumberStyles.None, CultureInfo.InvariantCulture, out _)) continue;
            if (first is not null && first.Shape![0] != axis0)
                throw new ExtractionException(
                    $"{Source}: inputs fix the sample axis at different sizes: '{first.Name}' {first.ShapeText} and '{input.Name}' {input.ShapeText}; axis 0 of " +
                        "every input must count the same samples");
            first ??= input;
        }
        return first is null ? null : int.Parse(first.Shape![0], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// A copy in which the sample axis is the symbolic <paramref name="name"/> wherever <see cref="FixedBatch"/>
    /// fixed it: axis 0 of the inputs (initializers excluded), the outputs and the value_info entries
    /// declared with that size. Fields this reader does not model are kept. Nodes are not touched: a
    /// Reshape to a constant shape still holds the old batch size, so the caller must check that the copy
    /// runs a batch as it ran one sample (FeatureExtractor does).
    /// </summary>
    public OnnxGraph WithSymbolicBatch(string name = "batch")
    {
        if (FixedBatch() is not { } size) return this;
        var edited = _model.Clone();
        var graph = edited.Graph;
        var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        foreach (var value in graph.Input.Where(v => !initializers.Contains(v.Name)).Concat(graph.Output).Concat(graph.ValueInfo))
        {
            if (value.Type?.TensorType?.Shape is not { Dim: [var axis0, ..] } || axis0.ValueCase != TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue
                || axis0.DimValue != size) continue;
            axis0.DimParam = name;
        }
        return new OnnxGraph(edited, Source);
    }

    /// <summary>
    /// A copy whose one input is multiplied by <paramref name="factor"/> before anything reads it: a model that
    /// expects pixels in [0, 255] (ResNetPreprocess) fed pixels in [0, 1]. The input keeps its name, type and
    /// shape; its readers read <c>{input}/scaled</c>, a Mul node placed first.
    /// </summary>
    public OnnxGraph WithScaledInput(float factor)
    {
        var edited = _model.Clone();
        var graph = edited.Graph;
        var initializers = new HashSet<string>(graph.Initializer.Select(t => t.Name), StringComparer.Ordinal);
        var inputs = graph.Input.Where(v => !initializers.Contains(v.Name)).ToList();
        if (inputs.Count != 1)
            throw new ExtractionException($"{Source}: scaling the input needs a model with one input; it has {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))})");
        string input = inputs[0].Name, scaled = $"{input}/scaled", factorName = $"{input}/scale";
        foreach (var node in graph.Node)
            for (int k = 0; k < node.Input.Count; k++)
                if (node.Input[k] == input) node.Input[k] = scaled;
        var scale = new TensorProto { Name = factorName, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(BitConverter.GetBytes(factor)) };
        graph.Initializer.Add(scale);
        var mul = new NodeProto { Name = scaled, OpType = "Mul" };
        mul.Input.AddRange([input, factorName]);
        mul.Output.Add(scaled);
        graph.Node.Insert(0, mul);
        return new OnnxGraph(edited, Source);
    }

    /// <summary>
    /// A copy in which the values of every float initializer of more than one element (weights, biases, batch-norm
    /// statistics) are shuffled within that tensor by a permutation drawn from <paramref name="seed"/>: each
    /// tensor keeps its shape and its distribution of values, and the network loses what training put in the
    /// arrangement. The untrained baseline of the paper's comparisons, deterministic per seed.
    /// </summary>
    public OnnxGraph WithShuffledWeights(int seed)
    {
        var edited = _model.Clone();
        var random = new Random(seed);
        foreach (var tensor in edited.Graph.Initializer.Where(t => t.DataType == (int)DataType.Float))
        {
            if (tensor.RawData.Length > sizeof(float))
            {
                var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(tensor.RawData.ToByteArray()).ToArray();
                random.Shuffle(values);
                tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
            }
            else if (tensor.FloatData.Count > 1)
            {
                var values = tensor.FloatData.ToArray();
                random.Shuffle(values);
                tensor.FloatData.Clear();
                tensor.FloatData.AddRange(values);
            }
        }
        return new OnnxGraph(edited, Source);
    }

    /// <summary>The model's bytes, re-serialised (unknown fields included).</summary>
    public byte[] ToBytes() => _model.ToByteArray();

    internal ExtractionException UnknownTensor(string name)
    {
        var near = Tensors.Select(t => t.Name)
            .Where(t => t.Contains(name, StringComparison.OrdinalIgnoreCase) || name.Contains(t, StringComparison.OrdinalIgnoreCase))
            .Take(5).ToList();
        string hint = near.Count > 0 ? $"; similar names: {string.Join(", ", near)}" : "";
        return new ExtractionException(
            $"{Source}: no tensor named '{name}' in the graph ({Tensors.Count} node outputs{hint}); run 'prh inspect {Source}' to list them");
    }

    private static OnnxValue Describe(ValueInfoProto v)
    {
        if (v.Type?.TensorType is not { } tensor) return new OnnxValue(v.Name, null, null);
        string? type = tensor.HasElemType ? ElementTypeName(tensor.ElemType) : null;
        IReadOnlyList<string>? shape = tensor.Shape is { } s
            ? s.Dim.Select(d => d.ValueCase switch
            {
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(CultureInfo.InvariantCulture),
                TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
                _ => "?",
            }).ToList()
            : null;
        return new OnnxValue(v.Name, type, shape);
    }

    /// <summary>The ONNX name of a TensorProto.DataType value ("float", "int64", ...).</summary>
    public static string ElementTypeName(int dataType) => (DataType)dataType switch
    {
        DataType.Float => "float",
        DataType.Uint8 => "uint8",
        DataType.Int8 => "int8",
        DataType.Uint16 => "uint16",
        DataType.Int16 => "int16",
        DataType.Int32 => "int32",
        DataType.Int64 => "int64",
        DataType.String => "string",
        DataType.Bool => "bool",
        DataType.Float16 => "float16",
        DataType.Double => "double",
        DataType.Uint32 => "uint32",
        DataType.Uint64 => "uint64",
        DataType.Complex64 => "complex64",
        DataType.Complex128 => "complex128",
        DataType.Bfloat16 => "bfloat16",
        _ => $"type {dataType}",
    };
}
