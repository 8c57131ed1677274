using Prh.Alignment.Metrics;
using Prh.Contracts.Datasets;
using Prh.Contracts.Sweeps;
using Prh.Extraction;

namespace Prh.Cluster.Tests.Sweeps;

/// <summary>A resubmitted sweep is recognised by content, whatever list or map instances carry it.</summary>
public sealed class SweepDefinitionTests
{
    private static SweepDefinition Make(string layer = "a", string input = "x.npy", int? topk = 10) => new("s", "d",
        [new ModelDefinition("m", "/f.npy"), new ModelDefinition("o", null, new OnnxSource("/m.onnx", Layers: [layer], Pool: Pooling.None, Inputs: new Dictionary<string,
            string> { ["x"] = "tokens" }))],
        [MetricSpec.Parse($"mutual_knn@{topk}"), MetricSpec.Parse("cka")],
        new DatasetSource(new Dictionary<string, string> { ["x"] = input, ["tokens"] = "t.npy" }));

    [Fact]
    public void Definitions_are_equal_by_content()
    {
        Assert.Equal(Make(), Make());
        Assert.Equal(Make().GetHashCode(), Make().GetHashCode());
        Assert.NotEqual(Make(), Make(layer: "b"));
        Assert.NotEqual(Make(), Make(input: "y.npy"));
        Assert.NotEqual(Make(), Make(topk: 5));
        Assert.NotEqual(Make(), Make() with { ShardSize = 7 });
    }
}
