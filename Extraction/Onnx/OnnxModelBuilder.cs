using Google.Protobuf;
using Prh.Extraction.Onnx.Proto;
using DataType = Prh.Extraction.Onnx.Proto.TensorProto.Types.DataType;

namespace Prh.Extraction.Onnx;

/// <summary>A dense layer's weights: <c>x W + B</c> with W row-major [In, Out].</summary>
public sealed record DenseWeights(int In, int Out, float[] W, float[] B);

/// <summary>
/// A model written by <see cref="OnnxModelBuilder.Mlp"/>: the .onnx bytes and the weights they hold,
/// layer by layer (layer l computes <c>relu(h W_l + b_l)</c>).
/// </summary>
public sealed record BuiltMlp(byte[] Bytes, int InputWidth, IReadOnlyList<DenseWeights> Layers);

/// <summary>One residual block of <see cref="BuiltTokenModel"/>: <c>h + relu(h W1 + b1) W2 + b2</c>.</summary>
public sealed record ResidualBlock(DenseWeights Fc1, DenseWeights Fc2);

/// <summary>
/// A model written by <see cref="OnnxModelBuilder.TokenModel"/>: the .onnx bytes and its weights.
/// With <see cref="TokenIds"/> the embedding is a table lookup (<see cref="Embed"/>.W is [vocab, width],
/// row <c>id</c> plus the bias); otherwise a dense layer on [.., InputWidth] float vectors.
/// </summary>
public sealed record BuiltTokenModel(
    byte[] Bytes, int InputWidth, int Width, int Tokens, bool TokenIds, DenseWeights Embed, IReadOnlyList<ResidualBlock> Blocks);

/// <summary>
/// Writes small, valid ONNX models (opset 17, IR version 8) with seeded float32 weights: Gaussian
/// values scaled by 1/sqrt(fan_in) (biases by 0.1/sqrt(fan_in)), from <see cref="Random"/> seeded with
/// the given seed, so the same arguments always give the same bytes. Used by the tests and the demos.
/// Every node is named after its output tensor, and those names are stable and readable.
/// </summary>
public static class OnnxModelBuilder
{
    public const long IrVersion = 8;
    public const long Opset = 17;
    public const string BatchDim = "batch";

    /// <summary>
    /// An MLP on input <c>x</c> [batch, inputWidth] float: per layer i, tensors <c>layer{i}/matmul</c>,
    /// <c>layer{i}/add</c> (bias) and <c>layer{i}/relu</c>; output <c>y</c> = Identity of the last relu.
    /// </summary>
    public static BuiltMlp Mlp(int inputWidth, int[] hiddenWidths, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputWidth);
        ArgumentNullException.ThrowIfNull(hiddenWidths);
        if (hiddenWidths.Length == 0 || hiddenWidths.Any(w => w <= 0))
            throw new ArgumentException("an MLP needs at least one layer, each of positive width", nameof(hiddenWidths));
        var random = new Random(seed);
        var g = new GraphBuilder("mlp");
        g.Input("x", DataType.Float, Dim(BatchDim), Dim(inputWidth));
        var layers = new List<DenseWeights>();
        string h = "x";
        int width = inputWidth;
        for (int i = 0; i < hiddenWidths.Length; i++)
        {
            var dense = Dense(random, width, hiddenWidths[i]);
            layers.Add(dense);
            h = g.Dense($"layer{i}", h, dense, "matmul", "add");
            h = g.Node("Relu", $"layer{i}/relu", h);
            width = hiddenWidths[i];
        }
        g.Node("Identity", "y", h);
        g.Output("y", DataType.Float, Dim(BatchDim), Dim(width));
        return new BuiltMlp(g.Model(), inputWidth, layers);
    }

    /// <summary>
    /// A tiny transformer-like net: inputs <c>x</c> ([batch, tokens, vocabOrInputWidth] float, or with
    /// <paramref name="tokenIds"/> [batch, tokens] int64 ids below vocabOrInputWidth) and <c>mask</c>
    /// [batch, tokens] float (1 valid, 0 padding). The embedding gives <c>embed/matmul</c> (or
    /// <c>embed/gather</c>) and <c>embed/add</c>; each block i computes <c>h + relu(h W1 + b1) W2 + b2</c>
    /// as <c>block{i}/fc1_matmul</c>, <c>block{i}/fc1_add</c>, <c>block{i}/relu</c>,
    /// <c>block{i}/fc2_matmul</c>, <c>block{i}/fc2_add</c>, <c>block{i}/residual</c>; output <c>y</c>
    /// [batch, tokens, width] = Identity of the last one.
    /// The mask is declared as a graph input but no node reads it: like a padded batch fed to a real
    /// encoder, padded positions are computed anyway, and only pooling (prh extract --mask mask)
    /// consumes the mask. ONNX Runtime accepts, and requires, it as an input.
    /// </summary>
    public static BuiltTokenModel TokenModel(int vocabOrInputWidth, int width, int depth, int tokens, int seed, bool tokenIds = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vocabOrInputWidth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegative(depth);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(tokens);
        var random = new Random(seed);
        var g = new GraphBuilder("token_model");
        if (tokenIds) g.Input("x", DataType.Int64, Dim(BatchDim), Dim(tokens));
        else g.Input("x", DataType.Float, Dim(BatchDim), Dim(tokens), Dim(vocabOrInputWidth));
        g.Input("mask", DataType.Float, Dim(BatchDim), Dim(tokens));

        // A lookup table is not a fan-in: scale its rows like a width-wide layer's outputs.
        var embed = Dense(random, vocabOrInputWidth, width, tokenIds ? width : vocabOrInputWidth);
        string h;
        if (tokenIds)
        {
            string table = g.Initializer("embed/table", [vocabOrInputWidth, width], embed.W);
            string gathered = g.Node("Gather", "embed/gather", [table, "x"], ("axis", 0L));
            h = g.Node("Add", "embed/add", gathered, g.Initializer("embed/bias", [width], embed.B));
        }
        else
        {
            h = g.Dense("embed", "x", embed, "matmul", "add");
        }

        var blocks = new List<ResidualBlock>();
        for (int i = 0; i < depth; i++)
        {
            var fc1 = Dense(random, width, width);
            var fc2 = Dense(random, width, width);
            blocks.Add(new ResidualBlock(fc1, fc2));
            string inner = g.Dense($"block{i}", h, fc1, "fc1_matmul", "fc1_add", weightName: "fc1_weight", biasName: "fc1_bias");
            inner = g.Node("Relu", $"block{i}/relu", inner);
            inner = g.Dense($"block{i}", inner, fc2, "fc2_matmul", "fc2_add", weightName: "fc2_weight", biasName: "fc2_bias");
            h = g.Node("Add", $"block{i}/residual", h, inner);
        }
        g.Node("Identity", "y", h);
        g.Output("y", DataType.Float, Dim(BatchDim), Dim(tokens), Dim(width));
        return new BuiltTokenModel(g.Model(), vocabOrInputWidth, width, tokens, tokenIds, embed, blocks);
    }

    private static DenseWeights Dense(Random random, int fanIn, int fanOut, int? scaleFanIn = null)
    {
        double scale = 1.0 / Math.Sqrt(scaleFanIn ?? fanIn);
        var w = new float[fanIn * fanOut];
        for (int k = 0; k < w.Length; k++) w[k] = (float)(Gaussian(random) * scale);
        var b = new float[fanOut];
        for (int k = 0; k < b.Length; k++) b[k] = (float)(0.1 * Gaussian(random) * scale);
        return new DenseWeights(fanIn, fanOut, w, b);
    }

    /// <summary>A standard normal draw (Box-Muller).</summary>
    private static double Gaussian(Random random)
    {
        double u1 = 1.0 - random.NextDouble(); // (0, 1]
        double u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };
    private static TensorShapeProto.Types.Dimension Dim(string symbol) => new() { DimParam = symbol };

    internal static ValueInfoProto ValueInfo(string name, DataType elemType, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elemType, Shape = shape } },
        };
    }

    /// <summary>Collects nodes, initializers, inputs and outputs into one graph.</summary>
    private sealed class GraphBuilder(string name)
    {
        private readonly GraphProto _graph = new() { Name = name };

        public void Input(string tensor, DataType type, params TensorShapeProto.Types.Dimension[] dims) =>
            _graph.Input.Add(ValueInfo(tensor, type, dims));

        public void Output(string tensor, DataType type, params TensorShapeProto.Types.Dimension[] dims) =>
            _graph.Output.Add(ValueInfo(tensor, type, dims));

        public string Initializer(string tensor, long[] dims, float[] values)
        {
            var bytes = new byte[values.Length * sizeof(float)];
            for (int k = 0; k < values.Length; k++)
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(k * sizeof(float)), values[k]);
            var t = new TensorProto { Name = tensor, DataType = (int)DataType.Float, RawData = ByteString.CopyFrom(bytes) };
            t.Dims.AddRange(dims);
            _graph.Initializer.Add(t);
            return tensor;
        }

        public string Node(string opType, string output, params string[] inputs) => Node(opType, output, inputs, attributes: []);

        public string Node(string opType, string output, string[] inputs, params (string Name, long Value)[] attributes)
        {
            var node = new NodeProto { Name = output, OpType = opType };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            foreach (var (attrName, value) in attributes)
                node.Attribute.Add(new AttributeProto { Name = attrName, I = value, Type = AttributeProto.Types.AttributeType.Int });
            _graph.Node.Add(node);
            return output;
        }

        /// <summary><c>{prefix}/{matmul}</c> = input W, then <c>{prefix}/{add}</c> = that + b; returns the latter.</summary>
        public string Dense(string prefix, string input, DenseWeights d, string matmul, string add,
            string weightName = "weight", string biasName = "bias")
        {
            string w = Initializer($"{prefix}/{weightName}", [d.In, d.Out], d.W);
            string b = Initializer($"{prefix}/{biasName}", [d.Out], d.B);
            string product = Node("MatMul", $"{prefix}/{matmul}", input, w);
            return Node("Add", $"{prefix}/{add}", product, b);
        }

        public byte[] Model()
        {
            var model = new ModelProto { IrVersion = IrVersion, ProducerName = "prh", Graph = _graph };
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            return model.ToByteArray();
        }
    }
}
