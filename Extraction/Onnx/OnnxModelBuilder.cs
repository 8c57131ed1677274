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

/// <summary>A 3 x 3 convolution's weights: W row-major [Out, In, 3, 3], B [Out]; stride 1, zero padding 1 (the output keeps H x W).</summary>
public sealed record ConvWeights(int In, int Out, float[] W, float[] B)
{
    public const int Kernel = 3;
}

/// <summary>
/// A model written by <see cref="OnnxModelBuilder.ConvNet"/>: the .onnx bytes, the input's channels and size, the
/// sample axis the file fixes (null: symbolic) and the convolutions' weights, layer by layer.
/// </summary>
public sealed record BuiltConvNet(byte[] Bytes, int Channels, int Height, int Width, int? FixedBatch, IReadOnlyList<ConvWeights> Layers);

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
            string gathered = g.Node("Gather", "embed/gather", [table, "x"], Int("axis", 0));
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

    /// <summary>
    /// A small convolutional net on input <c>x</c> [batch, channels, height, width] float: per layer i,
    /// <c>conv{i}/conv</c> (3 x 3, stride 1, padding 1) and <c>conv{i}/relu</c>; then <c>pool</c>
    /// (GlobalAveragePool, [batch, C, 1, 1]) and output <c>y</c> [batch, C], <c>pool</c> flattened.
    /// With <paramref name="fixedBatch"/>, every sample axis the file declares (input, output and the
    /// value_info it writes for each tensor) is that number, as exporters that traced one example write it.
    /// With <paramref name="reshapeToFixedBatch"/> as well, <c>y</c> is a Reshape of <c>pool</c> to the
    /// constant shape [fixedBatch, -1]: the batch size baked into a node, which a symbolic sample axis breaks.
    /// </summary>
    public static BuiltConvNet ConvNet(int channels, int height, int width, int[] layerChannels, int seed, int? fixedBatch = null, bool reshapeToFixedBatch = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentNullException.ThrowIfNull(layerChannels);
        if (layerChannels.Length == 0 || layerChannels.Any(c => c <= 0))
            throw new ArgumentException("a conv net needs at least one layer, each of positive width", nameof(layerChannels));
        if (fixedBatch is <= 0) throw new ArgumentOutOfRangeException(nameof(fixedBatch), fixedBatch, "a fixed batch is at least 1");
        if (reshapeToFixedBatch && fixedBatch is null)
            throw new ArgumentException("a Reshape to the fixed batch needs a fixed batch", nameof(reshapeToFixedBatch));
        var random = new Random(seed);
        var g = new GraphBuilder("conv_net");
        var batch = fixedBatch is { } size ? Dim(size) : Dim(BatchDim);
        g.Input("x", DataType.Float, batch, Dim(channels), Dim(height), Dim(width));
        var layers = new List<ConvWeights>();
        string h = "x";
        int c = channels;
        for (int i = 0; i < layerChannels.Length; i++)
        {
            var conv = Conv(random, c, layerChannels[i]);
            layers.Add(conv);
            string w = g.Initializer($"conv{i}/weight", [conv.Out, conv.In, ConvWeights.Kernel, ConvWeights.Kernel], conv.W);
            string b = g.Initializer($"conv{i}/bias", [conv.Out], conv.B);
            h = g.Node("Conv", $"conv{i}/conv", [h, w, b], Ints("kernel_shape", ConvWeights.Kernel, ConvWeights.Kernel), Ints("pads", 1, 1, 1, 1),
                Ints("strides", 1, 1));
            g.Declare(h, batch, Dim(conv.Out), Dim(height), Dim(width));
            h = g.Node("Relu", $"conv{i}/relu", h);
            g.Declare(h, batch, Dim(conv.Out), Dim(height), Dim(width));
            c = conv.Out;
        }
        h = g.Node("GlobalAveragePool", "pool", h);
        g.Declare(h, batch, Dim(c), Dim(1), Dim(1));
        if (reshapeToFixedBatch) g.Node("Reshape", "y", [h, g.Initializer("y/shape", [2], [(long)fixedBatch!, -1L])]);
        else g.Node("Flatten", "y", [h], Int("axis", 1));
        g.Output("y", DataType.Float, batch, Dim(c));
        return new BuiltConvNet(g.Model(), channels, height, width, fixedBatch, layers);
    }

    /// <summary>
    /// An image preprocessing model: input <c>pixels</c> [batch, 3, height, width] float (RGB in [0, 1], the
    /// sizes free), optionally resized bilinearly to <paramref name="resize"/> (Resize with sizes built from the
    /// input's own batch and channels), then normalised per channel: output <c>image</c> = (pixels - mean) / std.
    /// What a network trained on normalised images expects, run by the silos before it (a model's <c>preprocess</c>).
    /// </summary>
    public static byte[] ImagePreprocess(float[] mean, float[] std, (int Height, int Width)? resize = null)
    {
        ArgumentNullException.ThrowIfNull(mean);
        ArgumentNullException.ThrowIfNull(std);
        if (mean.Length != 3 || std.Length != 3) throw new ArgumentException("a mean and a std per RGB channel");
        if (std.Any(v => !(v > 0))) throw new ArgumentOutOfRangeException(nameof(std), "std must be positive");
        var g = new GraphBuilder("image_preprocess");
        g.Input("pixels", DataType.Float, Dim(BatchDim), Dim(3), Dim("height"), Dim("width"));
        string h = "pixels";
        if (resize is var (height, width))
        {
            if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(resize), resize, "a positive size");
            string shape = g.Node("Shape", "resize/input_shape", h);
            string leading = g.Node("Slice", "resize/batch_channels", shape, g.Initializer("resize/start", [1], [0L]), g.Initializer("resize/end", [1], [2L]));
            string sizes = g.Node("Concat", "resize/sizes", [leading, g.Initializer("resize/size", [2], [(long)height, width])], Int("axis", 0));
            h = g.Node("Resize", "resize", [h, "", "", sizes], new AttributeProto { Name = "mode", S = ByteString.CopyFromUtf8("linear"), Type = AttributeProto.Types.AttributeType.String });
        }
        h = g.Node("Sub", "centred", h, g.Initializer("mean", [1, 3, 1, 1], mean));
        g.Node("Div", "image", h, g.Initializer("std", [1, 3, 1, 1], std));
        g.Output("image", DataType.Float, Dim(BatchDim), Dim(3), resize is var (oh, _) ? Dim(oh) : Dim("height"), resize is var (_, ow) ? Dim(ow) : Dim("width"));
        return g.Model();
    }

    private static ConvWeights Conv(Random random, int channelsIn, int channelsOut)
    {
        int fanIn = channelsIn * ConvWeights.Kernel * ConvWeights.Kernel;
        var dense = Dense(random, fanIn, channelsOut);
        // Dense draws W as [fanIn, Out]; a Conv weight is [Out, In, 3, 3]: the same draws, transposed.
        var w = new float[dense.W.Length];
        for (int o = 0; o < channelsOut; o++)
            for (int k = 0; k < fanIn; k++) w[o * fanIn + k] = dense.W[k * channelsOut + o];
        return new ConvWeights(channelsIn, channelsOut, w, dense.B);
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, I = value, Type = AttributeProto.Types.AttributeType.Int };

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
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

        /// <summary>Records a float tensor's shape in the graph's value_info.</summary>
        public void Declare(string tensor, params TensorShapeProto.Types.Dimension[] dims) =>
            _graph.ValueInfo.Add(ValueInfo(tensor, DataType.Float, dims));

        public string Initializer(string tensor, long[] dims, long[] values)
        {
            var t = new TensorProto { Name = tensor, DataType = (int)DataType.Int64 };
            t.Dims.AddRange(dims);
            t.Int64Data.AddRange(values);
            _graph.Initializer.Add(t);
            return tensor;
        }

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

        public string Node(string opType, string output, string[] inputs, params AttributeProto[] attributes)
        {
            var node = new NodeProto { Name = output, OpType = opType };
            node.Input.AddRange(inputs);
            node.Output.Add(output);
            node.Attribute.AddRange(attributes);
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
