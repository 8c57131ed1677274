using Prh.Alignment.Features;
using Prh.Extraction.Onnx;
using Tensor = Prh.Alignment.IO.Tensor;

namespace Prh.Extraction.Tests;

/// <summary>
/// Convolutional layers [batch, C, H, W] pooled per channel, against the builder's conv nets computed
/// directly; models whose inputs fix the batch axis, run batched or at their fixed size.
/// </summary>
public sealed class ConvTests
{
    private const int N = 7, Channels = 3, Height = 5, Width = 4;

    internal static readonly BuiltConvNet Net = OnnxModelBuilder.ConvNet(Channels, Height, Width, [4, 6], seed: 21);

    internal static Dictionary<string, Tensor> Inputs(int n = N) =>
        new() { ["x"] = Reference.Tensor("x", [n, Channels, Height, Width], Reference.Floats(n * Channels * Height * Width, seed: 4)) };

    private static ModelFeatures Extract(byte[] model, string[] layers, Pooling pooling, int batch = 3, Dictionary<string, Tensor>? inputs = null)
    {
        using var extractor = new FeatureExtractor(model, new ExtractionOptions { Layers = LayerSelection.ByNames(layers), Pooling = pooling, BatchSize = batch });
        return extractor.Extract(inputs ?? Inputs());
    }

    [Theory]
    [InlineData(Pooling.SpatialMax)]
    [InlineData(Pooling.SpatialMean)]
    [InlineData(Pooling.Mean)]
    public void Conv_layers_pool_each_channel_over_its_positions_as_computed_by_hand(Pooling pooling)
    {
        var expected = Reference.Conv(Net, Inputs()["x"].Values, N);
        string[] layers = ["conv0/conv", "conv0/relu", "conv1/relu", "pool", "y"];
        var features = Extract(Net.Bytes, layers, pooling);

        Assert.Equal([4, 4, 6, 6, 6], features.Layers.Select(l => l.Width));
        var byHand = pooling == Pooling.SpatialMax ? Pooling.SpatialMax : Pooling.SpatialMean;
        for (int l = 0; l < 3; l++)
            Reference.AssertClose(Reference.SpatialPool(expected[layers[l]], Height * Width, byHand), features.Layers[l].Data, $"{layers[l]} ({pooling})");
        // pool is [batch, 6, 1, 1]: one position, so every spatial pooling gives it back; y is [batch, 6], taken as it is.
        Reference.AssertClose(Reference.SpatialPool(expected["pool"], 1, byHand), features.Layers[3].Data, "pool");
        Reference.AssertClose(Reference.SpatialPool(expected["pool"], 1, byHand), features.Layers[4].Data, "y");
    }

    [Fact]
    public void Spatial_max_differs_from_the_mean_and_mean_is_spatial_mean()
    {
        var max = Extract(Net.Bytes, ["conv1/relu"], Pooling.SpatialMax);
        var mean = Extract(Net.Bytes, ["conv1/relu"], Pooling.Mean);
        var spatialMean = Extract(Net.Bytes, ["conv1/relu"], Pooling.SpatialMean);
        Assert.Equal(mean.Layers[0].Data, spatialMean.Layers[0].Data);
        Assert.All(max.Layers[0].Data.Zip(mean.Layers[0].Data), pair => Assert.True(pair.First >= pair.Second));
        Assert.Contains(max.Layers[0].Data.Zip(mean.Layers[0].Data), pair => pair.First > pair.Second);
    }

    [Fact]
    public void A_batch_axis_fixed_at_one_is_made_symbolic_and_runs_batched()
    {
        var fixedNet = OnnxModelBuilder.ConvNet(Channels, Height, Width, [4, 6], seed: 21, fixedBatch: 1);
        Assert.Equal(1, OnnxGraph.Parse(fixedNet.Bytes).FixedBatch());
        using var extractor = new FeatureExtractor(fixedNet.Bytes, new ExtractionOptions { Layers = LayerSelection.ByNames(["conv1/relu", "y"]) });
        Assert.Equal(new BatchAxis(1, BatchMode.MadeSymbolic), extractor.Batch);
        Assert.Equal(N, extractor.SamplesPerRun(N));
        Assert.Equal("[batch, 3, 5, 4]", extractor.Inputs.Single().ShapeText);
        var features = extractor.Extract(Inputs());

        var expected = Reference.Conv(fixedNet, Inputs()["x"].Values, N);
        Reference.AssertClose(Reference.SpatialPool(expected["conv1/relu"], Height * Width, Pooling.SpatialMean), features.Layers[0].Data, "conv1/relu");
        Reference.AssertClose(Reference.SpatialPool(expected["pool"], 1, Pooling.SpatialMean), features.Layers[1].Data, "y");
        Assert.Equal(new BatchAxis(1, BatchMode.MadeSymbolic), BatchAxis.Probe(OnnxGraph.Parse(fixedNet.Bytes)));
        Assert.Equal(BatchAxis.Free, BatchAxis.Probe(OnnxGraph.Parse(Net.Bytes)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(32)]
    public void A_batch_baked_into_a_reshape_runs_its_fixed_size_whatever_the_batch_option(int batch)
    {
        // y = Reshape(pool, [2, -1]): two samples at once fit it, one alone or three do not.
        var baked = OnnxModelBuilder.ConvNet(Channels, Height, Width, [4, 6], seed: 21, fixedBatch: 2, reshapeToFixedBatch: true);
        using var extractor = new FeatureExtractor(baked.Bytes, new ExtractionOptions { Layers = LayerSelection.ByNames(["conv0/relu", "y"]), BatchSize = batch });
        Assert.Equal(new BatchAxis(2, BatchMode.Fixed), extractor.Batch);
        Assert.Equal(2, extractor.SamplesPerRun(N));
        Assert.Equal("[2, 3, 5, 4]", extractor.Inputs.Single().ShapeText);
        Assert.Equal("batch axis fixed at 2: runs 2 samples at a time", extractor.Batch.ToString());

        // N = 7 is odd: the last run is sample 6 and a copy of it, whose results are dropped.
        var features = extractor.Extract(Inputs());
        Assert.Equal(N, features.SampleCount);
        var expected = Reference.Conv(baked, Inputs()["x"].Values, N);
        Reference.AssertClose(Reference.SpatialPool(expected["conv0/relu"], Height * Width, Pooling.SpatialMean), features.Layers[0].Data, "conv0/relu");
        Reference.AssertClose(Reference.SpatialPool(expected["pool"], 1, Pooling.SpatialMean), features.Layers[1].Data, "y");
        Assert.Equal(new BatchAxis(2, BatchMode.Fixed), BatchAxis.Probe(OnnxGraph.Parse(baked.Bytes)));
    }

    [Fact]
    public void One_sample_fixed_and_baked_runs_one_at_a_time()
    {
        // Reshape(pool, [1, -1]) on two samples runs, but joins them into one row: the check sees the wrong shape.
        var baked = OnnxModelBuilder.ConvNet(Channels, Height, Width, [4], seed: 22, fixedBatch: 1, reshapeToFixedBatch: true);
        using var extractor = new FeatureExtractor(baked.Bytes, new ExtractionOptions { Layers = LayerSelection.ByNames(["y"]) });
        Assert.Equal("batch axis fixed at 1: runs 1 sample at a time", extractor.Batch.ToString());
        var features = extractor.Extract(Inputs(3));
        var expected = Reference.Conv(baked, Inputs(3)["x"].Values, 3);
        Reference.AssertClose(Reference.SpatialPool(expected["pool"], 1, Pooling.SpatialMean), features.Layers[0].Data, "y");
    }

    [Fact]
    public void Known_widths_of_conv_layers_are_their_channels()
    {
        using var extractor = new FeatureExtractor(Net.Bytes, new ExtractionOptions { Layers = LayerSelection.ByOp("Relu") });
        Assert.Equal(["conv0/relu", "conv1/relu"], extractor.Layers);
        Assert.Equal([4, 6], extractor.KnownWidths);
    }
}
