using System.Text.Json;
using Prh.Alignment.Metrics;
using Prh.Client.Commands;
using Prh.Client.Sweeps;
using Prh.Contracts.Aggregation;
using Prh.Contracts.Sweeps;

namespace Prh.Alignment.Tests.Cli;

/// <summary>The console's JSON documents, as written, without a process: the exact text, NaN included.</summary>
public sealed class JsonTests
{
    [Fact]
    public void A_sweeps_matrices_are_one_line_with_nan_and_infinities_spelled_as_python_does()
    {
        var knn = new MetricMatrix(MetricSpec.Parse("mutual_knn@5"), ["a", "b"],
            [[1, double.NaN], [double.NegativeInfinity, 0.1]], [[[0, 0], null], [[2, 1], [1, 1]]]);
        var cka = new MetricMatrix(MetricSpec.Parse("cka"), ["a", "b"], [[1, 1e-7], [double.PositiveInfinity, 1.0 / 3]], [[null, null], [null, null]]);
        Assert.Equal(
            "{\"models\":[\"a\",\"b\"],\"results\":["
            + "{\"metric\":\"mutual_knn\",\"topk\":5,\"scores\":[[1,NaN],[-Infinity,0.1]],\"indices\":[[[0,0],null],[[2,1],[1,1]]]},"
            + "{\"metric\":\"cka\",\"topk\":null,\"scores\":[[1,1E-07],[Infinity,0.3333333333333333]],\"indices\":[[null,null],[null,null]]}]}",
            SweepResults.Json(["a", "b"], [knn, cka]));
        Assert.Equal("{\"metric\":\"cka\",\"topk\":null,\"scores\":[[1,1E-07],[Infinity,0.3333333333333333]],\"indices\":[[null,null],[null,null]]}",
            SweepResults.MatrixJson(cka));
    }

    [Fact]
    public void A_pairs_layer_matrix_names_its_models_and_best_pair()
    {
        var best = new PairMatrix(MetricSpec.Parse("cknna@10"), "a", "b", [[0.25, 0.5], [-0.125, 0]], 0.5, [0, 1]);
        Assert.Equal("{\"metric\":\"cknna\",\"topk\":10,\"first\":\"a\",\"second\":\"b\",\"scores\":[[0.25,0.5],[-0.125,0]],\"best_score\":0.5,\"best_indices\":[0,1]}",
            SweepResults.Json(best));
        var none = new PairMatrix(MetricSpec.Parse("svcca"), "a", "b", [[double.NaN]], double.NaN, null);
        Assert.Equal("{\"metric\":\"svcca\",\"topk\":null,\"first\":\"a\",\"second\":\"b\",\"scores\":[[NaN]],\"best_score\":NaN,\"best_indices\":null}",
            SweepResults.Json(none));
    }

    [Fact]
    public void Numbers_round_trip_in_their_shortest_form_as_the_csv_prints_them()
    {
        double[] values = [0.1, 1e20, 1e-7, 123456789012345678.0, -0.0, 1.0 / 3, double.Epsilon, double.MaxValue, 2];
        string json = Json.Document(w => w.WriteArrayValue(values, Json.WriteDoubleValue));
        Assert.Equal($"[{string.Join(",", values.Select(Json.Number))}]", json);
        Assert.Equal(values, JsonDocument.Parse(json).RootElement.EnumerateArray().Select(v => v.GetDouble()));
    }

    [Fact]
    public void Text_is_escaped_for_json_and_left_readable()
    {
        string message = "model 'm': \"x.npy\" isn't there\n\tü <&> \u0001";
        string json = Json.Document(w =>
        {
            w.WriteStartObject();
            w.WriteString("error", message);
            w.WriteString("paused", (string?)null);
            w.WriteEndObject();
        });
        Assert.Equal("{\"error\":\"model 'm': \\\"x.npy\\\" isn't there\\n\\tü <&> \\u0001\",\"paused\":null}", json);
        Assert.Equal(message, JsonDocument.Parse(json).RootElement.GetProperty("error").GetString());
    }
}
