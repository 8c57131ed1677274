using System.Globalization;
using Prh.Alignment.Features;

namespace Prh.Alignment.IO;

/// <summary>
/// A model's per-layer features stored as a tensor file.
/// <list type="bullet">
/// <item>.npy of shape N x L x D: L layers of N x D; of shape N x D: one layer.</item>
/// <item>.safetensors with one tensor: the same rule by its rank, whatever its name.</item>
/// <item>.safetensors with tensors <c>layers.0</c> ... <c>layers.{L-1}</c>, each N x D_l: one layer per
/// tensor in numeric order (layers may differ in width).</item>
/// </list>
/// </summary>
public static class FeatureFile
{
    private const string LayerPrefix = "layers.";

    /// <param name="format">For a file whose name does not say (a stored blob); null: by its extension.</param>
    public static ModelFeatures Load(string path, FeatureFormat? format = null)
    {
        switch (Kind(path, format))
        {
            case FeatureFormat.Npy:
                return new ModelFeatures(path, NpyFile.Read(path, (shape, dtype, stream) =>
                    Floating(path, "array", dtype) && shape.Length == 3 && shape.All(d => d > 0)
                        ? ScatterLayers(path, shape, dtype, stream)
                        : FromTensor(path, "array", shape, ReadAll(path, shape, dtype, stream))));
            case FeatureFormat.Safetensors:
            {
                var tensors = Floating(path, SafetensorsFile.Read(path));
                if (tensors.Count == 0)
                    throw new TensorFileException(path, "holds no tensors; expected one N x D or N x L x D tensor, or tensors layers.0 ... layers.{L-1}");
                if (tensors.Count == 1)
                    return new ModelFeatures(path, FromTensor(path, $"tensor '{tensors[0].Name}'", tensors[0].Shape, tensors[0].Values));
                return new ModelFeatures(path, FromLayerTensors(path, tensors));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "not a feature format");
        }
    }

    /// <summary>A feature file's bytes, for <see cref="Check"/>; a file that cannot be opened is a <see cref="TensorFileException"/> naming it.</summary>
    public static byte[] ReadBytes(string path)
    {
        using var stream = TensorCodec.OpenRead(path);
        try
        {
            var content = GC.AllocateUninitializedArray<byte>(checked((int)stream.Length));
            stream.ReadExactly(content);
            return content;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OverflowException)
        {
            throw new TensorFileException(path, $"read failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Checks a feature file's bytes (read once, already in memory) as <see cref="Load"/> would: its
    /// header against its size, its shape, and every value for NaN and Inf, without keeping the values.
    /// Returns N, each layer's width and the clamp threshold of compute_score's preparation at
    /// <paramref name="quantile"/> (<see cref="FeaturePreparation.ClampThreshold(ModelFeatures, double)"/>),
    /// which the same two passes over the values find.
    /// </summary>
    public static (int SampleCount, int[] LayerWidths, double Threshold) Check(string path, byte[] content, FeatureFormat? format = null,
        double quantile = FeaturePreparation.DefaultQuantile)
    {
        switch (Kind(path, format))
        {
            case FeatureFormat.Npy:
                return NpyFile.Read(path, content, (shape, dtype, stream) =>
                {
                    Floating(path, "array", dtype);
                    CheckFeatureShape(path, "array", shape);
                    long total = TensorCodec.SaturatingCount(shape), start = stream.Position;
                    const int Chunk = 1 << 18;
                    int item = TensorCodec.ItemSize(dtype), chunks = (int)((total + Chunk - 1) / Chunk);
                    // Every value is checked as it is read for the threshold's histogram (and again when gathered).
                    double threshold = FeaturePreparation.ClampThreshold(total, chunks, Chunk, (c, scratch) =>
                    {
                        long first = (long)c * Chunk;
                        var values = scratch[..(int)Math.Min(Chunk, total - first)];
                        var chunk = new MemoryStream(content, (int)(start + first * item), values.Length * item, writable: false);
                        int bad = TensorCodec.ReadValues(chunk, dtype, values);
                        if (bad >= 0) throw new TensorFileException(path, TensorCodec.DescribeNonFinite(shape, first + bad, values[bad]));
                        return values;
                    }, quantile);
                    int count = shape.Length == 3 ? shape[1] : 1;
                    return (shape[0], Enumerable.Repeat(shape[^1], count).ToArray(), threshold);
                });
            case FeatureFormat.Safetensors:
            {
                var tensors = Floating(path, SafetensorsFile.Read(path, content));
                if (tensors.Count == 0)
                    throw new TensorFileException(path, "holds no tensors; expected one N x D or N x L x D tensor, or tensors layers.0 ... layers.{L-1}");
                var layers = tensors.Count == 1 ? FromTensor(path, $"tensor '{tensors[0].Name}'", tensors[0].Shape, tensors[0].Values) : FromLayerTensors(path, tensors);
                var features = new ModelFeatures(path, layers);
                return (features.SampleCount, layers.Select(l => l.Width).ToArray(), FeaturePreparation.ClampThreshold(features, quantile));
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "not a feature format");
        }
    }

    /// <summary>
    /// Opens a feature file for streaming: the header is checked now (against the file's size), and
    /// each layer of a .npy file is read from the file whenever it is needed (values checked for NaN
    /// and Inf on every read), so only the layers being worked on occupy memory. A .safetensors file
    /// is loaded whole, as <see cref="Load"/>.
    /// </summary>
    public static ModelFeatures Open(string path, FeatureFormat? format = null)
    {
        if (Kind(path, format) != FeatureFormat.Npy) return Load(path, format);
        var (shape, dtype, dataStart, fileLength) = NpyFile.Read(path, (shape, dtype, stream) => (shape, dtype, stream.Position, stream.Length));
        Floating(path, "array", dtype);
        CheckFeatureShape(path, "array", shape);
        int n = shape[0], count = shape.Length == 3 ? shape[1] : 1, width = shape[^1];
        var layers = new LayerFeatures[count];
        for (int l = 0; l < count; l++)
        {
            int layer = l;
            layers[l] = new LayerFeatures(n, width, values => ReadLayer(path, shape, dtype, dataStart, fileLength, layer, values));
        }
        return new ModelFeatures(path, layers);
    }

    /// <summary>Layer l of an N x L x D (or N x D) .npy: row i of the layer starts at value (i L + l) D.</summary>
    private static void ReadLayer(string path, int[] shape, TensorDType dtype, long dataStart, long fileLength, int layer, Span<double> values)
    {
        int n = shape[0], count = shape.Length == 3 ? shape[1] : 1, width = shape[^1];
        int item = TensorCodec.ItemSize(dtype);
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
            if (stream.Length != fileLength)
                throw new TensorFileException(path, $"changed while in use: {stream.Length} bytes now, {fileLength} when opened");
            for (int i = 0; i < n; i++)
            {
                stream.Position = dataStart + ((long)i * count + layer) * width * item;
                var row = values.Slice(i * width, width);
                int bad = TensorCodec.ReadValues(stream, dtype, row);
                if (bad >= 0)
                    throw new TensorFileException(path, TensorCodec.DescribeNonFinite(shape, ((long)i * count + layer) * width + bad, row[bad]));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TensorFileException(path, $"read failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Writes N x L x D (a .npy array, or one .safetensors tensor named <c>features</c>) when all layers
    /// have the same width; otherwise (or when N x L x D exceeds one array) one .safetensors tensor
    /// <c>layers.i</c> per layer, which .npy cannot hold.
    /// </summary>
    public static void Save(string path, ModelFeatures features, TensorDType dtype = TensorDType.Float32)
    {
        ArgumentNullException.ThrowIfNull(features);
        var format = FeatureFormats.OfPath(path);

        var layers = features.Layers;
        int n = features.SampleCount, count = layers.Count, width = layers[0].Width;
        bool uniform = layers.All(l => l.Width == width);
        long total = (long)n * count * width;
        if (!uniform || total > Array.MaxLength)
        {
            if (format == FeatureFormat.Npy)
                throw new TensorFileException(path, uniform
                    ? $"{n} x {count} x {width} = {total} values exceed the largest .npy array this engine writes; save as .safetensors (one layers.<i> tensor per layer)"
                    : $"layers differ in width ({string.Join(", ", layers.Select(l => l.Width))}); a .npy file holds one N x L x D array, save as .safetensors (one " +
                        $"layers.<i> tensor per layer)");
            SafetensorsFile.Write(path, layers.Select((l, i) =>
                (LayerPrefix + i.ToString(CultureInfo.InvariantCulture), new[] { n, l.Width }, l.IsInMemory ? l.Data : l.ToArray(), dtype)));
            return;
        }

        double[] block;
        if (count == 1)
        {
            block = layers[0].IsInMemory ? layers[0].Data : layers[0].ToArray();
        }
        else
        {
            block = GC.AllocateUninitializedArray<double>((int)total);
            var layerValues = layers.Select(l => l.IsInMemory ? l.Data : l.ToArray()).ToArray();
            for (int i = 0; i < n; i++)
            {
                var row = block.AsSpan(i * count * width, count * width);
                for (int l = 0; l < count; l++)
                    layerValues[l].AsSpan(i * width, width).CopyTo(row.Slice(l * width, width));
            }
        }
        int[] shape = [n, count, width];
        if (format == FeatureFormat.Npy) NpyFile.Write(path, shape, block, dtype);
        else SafetensorsFile.Write(path, [("features", shape, block, dtype)]);
    }

    private static FeatureFormat Kind(string path, FeatureFormat? format) => format ?? FeatureFormats.OfPath(path);

    private static double[] ReadAll(string path, int[] shape, TensorDType dtype, Stream stream)
    {
        var values = GC.AllocateUninitializedArray<double>(checked((int)TensorCodec.SaturatingCount(shape)));
        int bad = TensorCodec.ReadValues(stream, dtype, values);
        if (bad >= 0) throw new TensorFileException(path, TensorCodec.DescribeNonFinite(shape, bad, values[bad]));
        return values;
    }

    /// <summary>
    /// Reads an N x L x D array sample by sample straight into L per-layer N x D arrays, so the
    /// file's values are held once, not as one block plus its per-layer copy.
    /// </summary>
    private static List<LayerFeatures> ScatterLayers(string path, int[] shape, TensorDType dtype, Stream stream)
    {
        int n = shape[0], count = shape[1], width = shape[2];
        var data = new double[count][];
        for (int l = 0; l < count; l++) data[l] = GC.AllocateUninitializedArray<double>(checked(n * width));
        var row = new double[count * width];
        for (int i = 0; i < n; i++)
        {
            int bad = TensorCodec.ReadValues(stream, dtype, row);
            if (bad >= 0)
                throw new TensorFileException(path, TensorCodec.DescribeNonFinite(shape, (long)i * count * width + bad, row[bad]));
            for (int l = 0; l < count; l++)
                row.AsSpan(l * width, width).CopyTo(data[l].AsSpan(i * width, width));
        }
        return data.Select(d => new LayerFeatures(n, width, d)).ToList();
    }

    private static void CheckFeatureShape(string path, string what, int[] shape)
    {
        string shown = TensorCodec.FormatShape(shape);
        if (shape.Length is not (2 or 3))
            throw new TensorFileException(path,
                $"{what} has rank {shape.Length} (shape {shown}); expected N x D (one layer) or N x L x D (L layers)");
        if (shape.Any(d => d == 0))
            throw new TensorFileException(path, $"{what} has a zero-size dimension (shape {shown}); features need N, L, D >= 1");
    }

    private static List<LayerFeatures> FromTensor(string path, string what, int[] shape, double[] values)
    {
        CheckFeatureShape(path, what, shape);

        if (shape.Length == 2)
            return [new LayerFeatures(shape[0], shape[1], values)];

        int n = shape[0], count = shape[1], width = shape[2];
        if (count == 1)
            return [new LayerFeatures(n, width, values)];
        var data = new double[count][];
        for (int l = 0; l < count; l++) data[l] = GC.AllocateUninitializedArray<double>(n * width);
        var src = values.AsSpan();
        for (int i = 0; i < n; i++)
        {
            var row = src.Slice(i * count * width, count * width);
            for (int l = 0; l < count; l++)
                row.Slice(l * width, width).CopyTo(data[l].AsSpan(i * width, width));
        }
        var layers = new List<LayerFeatures>(count);
        for (int l = 0; l < count; l++) layers.Add(new LayerFeatures(n, width, data[l]));
        return layers;
    }

    private static List<LayerFeatures> FromLayerTensors(string path, IReadOnlyList<Tensor> tensors)
    {
        string Found() => string.Join(", ", tensors.Take(12).Select(t => t.Name)) + (tensors.Count > 12 ? $", ... ({tensors.Count} tensors)" : "");

        var byIndex = new Dictionary<int, Tensor>();
        foreach (var t in tensors)
        {
            if (!TryLayerIndex(t.Name, out int index))
                throw new TensorFileException(path,
                    $"tensor '{t.Name}' does not follow the layers.<i> naming: a .safetensors file with several tensors must hold exactly layers.0 ... layers.{{L-1}} " +
                        $"(each N x D); found {Found()}");
            byIndex[index] = t; // names are unique, and canonical indices are too
        }
        for (int i = 0; i < tensors.Count; i++)
            if (!byIndex.ContainsKey(i))
                throw new TensorFileException(path,
                    $"'{LayerPrefix}{i}' is missing: layer tensors must be numbered contiguously layers.0 ... layers.{tensors.Count - 1}; found {Found()}");

        var layers = new List<LayerFeatures>(tensors.Count);
        Tensor first = byIndex[0];
        for (int i = 0; i < tensors.Count; i++)
        {
            var t = byIndex[i];
            string shown = TensorCodec.FormatShape(t.Shape);
            if (t.Shape.Length != 2)
                throw new TensorFileException(path, $"tensor '{t.Name}' has rank {t.Shape.Length} (shape {shown}); each layers.<i> tensor must be N x D");
            if (t.Shape[0] == 0 || t.Shape[1] == 0)
                throw new TensorFileException(path, $"tensor '{t.Name}' has a zero-size dimension (shape {shown})");
            if (t.Shape[0] != first.Shape[0])
                throw new TensorFileException(path,
                    $"tensor '{t.Name}' has {t.Shape[0]} samples (shape {shown}) but '{first.Name}' has {first.Shape[0]}; all layers need the same N");
            layers.Add(new LayerFeatures(t.Shape[0], t.Shape[1], t.Values));
        }
        return layers;
    }

    /// <summary>"layers.7" gives 7; the index must be canonical decimal (no sign, no leading zeros).</summary>
    private static bool TryLayerIndex(string name, out int index)
    {
        index = -1;
        if (!name.StartsWith(LayerPrefix, StringComparison.Ordinal)) return false;
        var digits = name.AsSpan(LayerPrefix.Length);
        if (digits.Length == 0 || digits.Length > 9) return false;
        foreach (char c in digits) if (!char.IsAsciiDigit(c)) return false;
        if (digits.Length > 1 && digits[0] == '0') return false;
        index = int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>Features are floating point: integer and boolean tensors are model inputs (token ids, masks), refused here by name.</summary>
    private static bool Floating(string path, string what, TensorDType dtype) => !dtype.IsInteger() ? true
        : throw new TensorFileException(path, $"{what} holds {TensorCodec.Describe(dtype)} values; features must be floating point (float16, bfloat16, float32 or float64)");

    private static IReadOnlyList<Tensor> Floating(string path, IReadOnlyList<Tensor> tensors)
    {
        foreach (var t in tensors) Floating(path, $"tensor '{t.Name}'", t.SourceType);
        return tensors;
    }
}
