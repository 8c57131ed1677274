using System.CommandLine;
using System.Text;
using Prh.Extraction;
using Prh.Extraction.Onnx;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh inspect MODEL.onnx [--json]</c>: the model's inputs, outputs and every intermediate tensor
/// (node output, in graph order) with its op type, node and shape, the names <c>prh extract</c> takes.
/// Shapes are ONNX Runtime's inference on the model with every tensor exposed (the file's
/// value_info when ONNX Runtime cannot load it). A model whose inputs fix the sample axis gets a line
/// saying how extraction runs it: "batch axis fixed at 1: made symbolic, runs batched" or "... runs 1 sample at a time".
/// </summary>
internal static class InspectCommand
{
    private static readonly string[] TensorColumns = ["name", "op", "type", "shape"];

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

    internal static string ToJson(string path, ModelInspection m) => Json.Document(w =>
    {
        // Known sizes are numbers, symbolic axes their names; a shape ONNX does not give is null.
        void Shape(IReadOnlyList<string>? shape)
        {
            w.WritePropertyName("shape");
            if (shape is null) w.WriteNullValue();
            else w.WriteArrayValue(shape, (w, d) => { if (long.TryParse(d, out long size)) w.WriteNumberValue(size); else w.WriteStringValue(d); });
        }
        void Values(string name, IEnumerable<OnnxValue> values) => w.WriteArray(name, values, (w, v) =>
        {
            w.WriteStartObject();
            w.WriteString("name", v.Name);
            w.WriteString("type", v.ElementType);
            Shape(v.Shape);
            w.WriteEndObject();
        });
        w.WriteStartObject();
        w.WriteString("model", path);
        w.WriteNumber("ir_version", m.Graph.IrVersion);
        w.WriteStrings("opsets", m.Graph.Opsets);
        w.WriteString("producer", m.Graph.ProducerName);
        w.WriteString("shapes_from", m.ShapesFrom);
        // How extraction runs the sample axis: {"fixed": 1 or null, "mode": "free" | "made_symbolic" | "fixed"}; null when ONNX Runtime cannot load the model.
        w.WritePropertyName("batch_axis");
        if (m.Batch is null)
        {
            w.WriteNullValue();
        }
        else
        {
            w.WriteStartObject();
            if (m.Batch.FixedSize is { } size) w.WriteNumber("fixed", size);
            else w.WriteNull("fixed");
            w.WriteString("mode", m.Batch.Mode switch { BatchMode.Free => "free", BatchMode.MadeSymbolic => "made_symbolic", _ => "fixed" });
            w.WriteEndObject();
        }
        Values("inputs", m.Inputs);
        Values("outputs", m.Outputs);
        w.WriteArray("tensors", m.Tensors, (w, t) =>
        {
            w.WriteStartObject();
            w.WriteString("name", t.Name);
            w.WriteString("op_type", t.OpType);
            w.WriteString("node", t.NodeName);
            w.WriteString("type", t.ElementType);
            Shape(t.Shape);
            w.WriteEndObject();
        });
        w.WriteEndObject();
    });

    internal static string ToText(string path, ModelInspection m)
    {
        var sb = new StringBuilder();
        string producer = m.Graph.ProducerName.Length > 0 ? $", producer {m.Graph.ProducerName}" : "";
        sb.AppendLine($"{path}: IR version {m.Graph.IrVersion}, opsets {string.Join(" ", m.Graph.Opsets)}{producer}");
        if (m.Batch is { Mode: not BatchMode.Free } batch) sb.AppendLine(batch.ToString());
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
        var rows = new List<string[]> { TensorColumns };
        rows.AddRange(m.Tensors.Select(t => new[] { t.Name, t.OpType, t.ElementType ?? "?", t.ShapeText }));
        Rows(rows);
        return sb.ToString();
    }
}
