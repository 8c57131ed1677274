using System.CommandLine;
using System.Text;
using Prh.Extraction.Onnx;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh inspect MODEL.onnx [--json]</c>: the model's inputs, outputs and every intermediate tensor
/// (node output, in graph order) with its op type, node and shape, the names <c>prh extract</c> takes.
/// Shapes are ONNX Runtime's inference on the model with every tensor exposed (the file's
/// value_info when ONNX Runtime cannot load it).
/// </summary>
internal static class InspectCommand
{
    public static Command Build()
    {
        var model = new Argument<string>("MODEL") { Description = "The .onnx model file" };
        var json = new Option<bool>("--json") { Description = "Print {\"inputs\", \"outputs\", \"tensors\", ...} as one JSON document" };
        var command = new Command("inspect", "List an ONNX model's inputs, outputs and intermediate tensors (op type, shape): the layer names prh extract takes.")
        {
            model, json,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            string path = parse.GetValue(model)!;
            var inspection = OnnxInspector.Inspect(OnnxGraph.Load(path));
            Console.Out.Write(parse.GetValue(json) ? ToJson(path, inspection) + "\n" : ToText(path, inspection));
            return 0;
        }));
        return command;
    }

    internal static string ToJson(string path, ModelInspection m)
    {
        static string Shape(IReadOnlyList<string>? shape) => shape is null
            ? "null"
            : "[" + string.Join(", ", shape.Select(d => long.TryParse(d, out _) ? d : Json.String(d))) + "]";
        static string Type(string? type) => type is null ? "null" : Json.String(type);
        static string Values(IEnumerable<OnnxValue> values) => "[" + string.Join(", ", values.Select(v =>
            $"{{\"name\": {Json.String(v.Name)}, \"type\": {Type(v.ElementType)}, \"shape\": {Shape(v.Shape)}}}")) + "]";
        string tensors = "[" + string.Join(", ", m.Tensors.Select(t =>
            $"{{\"name\": {Json.String(t.Name)}, \"op_type\": {Json.String(t.OpType)}, \"node\": {Json.String(t.NodeName)}, " +
            $"\"type\": {Type(t.ElementType)}, \"shape\": {Shape(t.Shape)}}}")) + "]";
        return $"{{\"model\": {Json.String(path)}, \"ir_version\": {m.Graph.IrVersion}, " +
               $"\"opsets\": [{string.Join(", ", m.Graph.Opsets.Select(Json.String))}], \"producer\": {Json.String(m.Graph.ProducerName)}, " +
               $"\"shapes_from\": {Json.String(m.ShapesFrom)}, \"inputs\": {Values(m.Inputs)}, \"outputs\": {Values(m.Outputs)}, \"tensors\": {tensors}}}";
    }

    internal static string ToText(string path, ModelInspection m)
    {
        var sb = new StringBuilder();
        string producer = m.Graph.ProducerName.Length > 0 ? $", producer {m.Graph.ProducerName}" : "";
        sb.AppendLine($"{path}: IR version {m.Graph.IrVersion}, opsets {string.Join(" ", m.Graph.Opsets)}{producer}");
        void Values(string title, IReadOnlyList<OnnxValue> values)
        {
            sb.AppendLine($"{title}:");
            Rows(values.Select(v => new[] { v.Name, v.ElementType ?? "?", v.ShapeText }).ToList());
        }
        void Rows(List<string[]> rows)
        {
            if (rows.Count == 0) { sb.AppendLine("  (none)"); return; }
            var widths = Enumerable.Range(0, rows[0].Length).Select(j => rows.Max(r => r[j].Length)).ToArray();
            foreach (var r in rows)
                sb.AppendLine("  " + string.Join("  ", r.Select((c, j) => j == r.Length - 1 ? c : c.PadRight(widths[j]))).TrimEnd());
        }
        Values("inputs", m.Inputs);
        Values("outputs", m.Outputs);
        string from = m.ShapesFrom == OnnxInspector.FromOnnxRuntime ? "shapes inferred by ONNX Runtime" : "shapes from the file's value_info";
        sb.AppendLine($"tensors ({m.Tensors.Count}, in graph order; {from}):");
        var rows = new List<string[]> { new[] { "name", "op", "type", "shape" } };
        rows.AddRange(m.Tensors.Select(t => new[] { t.Name, t.OpType, t.ElementType ?? "?", t.ShapeText }));
        Rows(rows);
        return sb.ToString();
    }
}
