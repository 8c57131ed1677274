using Prh.Extraction.Onnx;

namespace Prh.Extraction;

/// <summary>Which tensors become feature layers: named tensors in the given order, or every output of one op type in graph order.</summary>
public sealed class LayerSelection
{
    private LayerSelection(IReadOnlyList<string>? names, string? opType)
    {
        Names = names;
        OpType = opType;
    }

    public IReadOnlyList<string>? Names { get; }
    public string? OpType { get; }

    public static LayerSelection ByNames(IEnumerable<string> names)
    {
        var list = names.ToList();
        if (list.Count == 0) throw new ExtractionException("no layers given; name at least one tensor (prh inspect lists them)");
        if (list.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
            throw new ExtractionException("an empty layer name was given");
        if (list.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new ExtractionException($"layer '{twice.Key}' is listed more than once");
        return new LayerSelection(list, null);
    }

    public static LayerSelection ByOp(string opType)
    {
        if (string.IsNullOrWhiteSpace(opType)) throw new ExtractionException("an empty op type was given");
        return new LayerSelection(null, opType);
    }

    /// <summary>The selected tensor names; unknown names, or an op type no node has, are errors.</summary>
    public IReadOnlyList<string> Resolve(OnnxGraph graph)
    {
        if (Names is not null)
        {
            foreach (string name in Names) graph.GetTensor(name);
            return Names;
        }
        var tensors = graph.TensorsByOp(OpType!);
        if (tensors.Count == 0)
        {
            string hint = graph.OpTypes.FirstOrDefault(o => string.Equals(o, OpType, StringComparison.OrdinalIgnoreCase)) is { } near
                ? $" (op types are case-sensitive: did you mean '{near}'?)" : "";
            throw new ExtractionException(
                $"{graph.Source}: no node of op type '{OpType}'{hint}; the graph's op types are {string.Join(", ", graph.OpTypes)}");
        }
        return tensors;
    }

    public override string ToString() => Names is not null ? string.Join(",", Names) : $"op {OpType}";
}
