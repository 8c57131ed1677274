using Prh.Alignment.Features;
using Prh.Alignment.IO;
using static Prh.Alignment.Tests.IO.IoTestFiles;

namespace Prh.Alignment.Tests.IO;

public sealed class FeatureFileTests
{
    private static ModelFeatures Model(int n, params int[] widths) =>
        new("test", widths.Select((w, l) => new LayerFeatures(n, w, ExactValues(n * w, seed: l + 1))).ToList());

    private static void AssertSameFeatures(ModelFeatures expected, ModelFeatures actual)
    {
        Assert.Equal(expected.LayerCount, actual.LayerCount);
        for (int l = 0; l < expected.LayerCount; l++)
        {
            Assert.Equal(expected.Layers[l].SampleCount, actual.Layers[l].SampleCount);
            Assert.Equal(expected.Layers[l].Width, actual.Layers[l].Width);
            AssertBitEqual(expected.Layers[l].Data, actual.Layers[l].Data);
        }
    }

    [Fact]
    public void ReferenceFixtureLoadsAsLayersAndSavesByteForByte()
    {
        string fixture = Fixture("pipeline/lang_a.npy");
        var raw = NpyFile.Read(fixture);
        var features = FeatureFile.Load(fixture);
        Assert.Equal(fixture, features.Source);
        Assert.Equal(128, features.SampleCount);
        Assert.Equal(7, features.LayerCount);
        for (int l = 0; l < 7; l++)
        {
            Assert.Equal(64, features.Layers[l].Width);
            for (int i = 0; i < 128; i += 9)
                AssertBitEqual(raw.Values.AsSpan((i * 7 + l) * 64, 64), features.Layers[l].Data.AsSpan(i * 64, 64));
        }

        using var dir = new TempDirectory();
        string copy = dir.PathOf("copy.npy");
        FeatureFile.Save(copy, features);
        Assert.Equal(File.ReadAllBytes(fixture), File.ReadAllBytes(copy));
    }

    [Theory]
    [InlineData(".npy", TensorDType.Float64)]
    [InlineData(".npy", TensorDType.Float32)]
    [InlineData(".npy", TensorDType.Float16)]
    [InlineData(".safetensors", TensorDType.Float64)]
    [InlineData(".safetensors", TensorDType.Float32)]
    [InlineData(".safetensors", TensorDType.Float16)]
    [InlineData(".safetensors", TensorDType.BFloat16)]
    public void UniformWidthRoundTripsAsNxLxD(string extension, TensorDType dtype)
    {
        var model = Model(9, 5, 5, 5, 5);
        using var dir = new TempDirectory();
        string path = dir.PathOf("f" + extension);
        FeatureFile.Save(path, model, dtype);
        AssertSameFeatures(model, FeatureFile.Load(path));

        var shape = extension == ".npy" ? NpyFile.Read(path).Shape : Assert.Single(SafetensorsFile.Read(path)).Shape;
        Assert.Equal(new[] { 9, 4, 5 }, shape);
        if (extension == ".safetensors") Assert.Equal("features", SafetensorsFile.Read(path)[0].Name);
    }

    [Theory]
    [InlineData(TensorDType.Float32)]
    [InlineData(TensorDType.BFloat16)]
    public void PerLayerWidthsRoundTripAsLayerTensors(TensorDType dtype)
    {
        var model = Model(6, 3, 8, 1, 4);
        using var dir = new TempDirectory();
        string path = dir.PathOf("f.safetensors");
        FeatureFile.Save(path, model, dtype);
        AssertSameFeatures(model, FeatureFile.Load(path));
        Assert.Equal(new[] { "layers.0", "layers.1", "layers.2", "layers.3" }, SafetensorsFile.Read(path).Select(t => t.Name));
    }

    [Fact]
    public void LayerTensorsAreOrderedNumericallyWhateverTheFileOrder()
    {
        var order = new[] { 10, 3, 0, 7, 1, 9, 2, 8, 4, 6, 5 };
        var tensors = order.Select(l => ($"layers.{l}", new[] { 2, l + 1 }, Enumerable.Repeat((double)l, 2 * (l + 1)).ToArray(), TensorDType.Float32));
        using var dir = new TempDirectory();
        string path = dir.PathOf("shuffled.safetensors");
        SafetensorsFile.Write(path, tensors);
        var features = FeatureFile.Load(path);
        Assert.Equal(11, features.LayerCount);
        for (int l = 0; l < 11; l++)
        {
            Assert.Equal(l + 1, features.Layers[l].Width);
            Assert.All(features.Layers[l].Data, v => Assert.Equal(l, v));
        }
    }

    [Fact]
    public void TwoDimensionalTensorsAreOneLayer()
    {
        using var dir = new TempDirectory();
        var values = ExactValues(12);
        string npy = dir.PathOf("one.npy");
        NpyFile.Write(npy, [4, 3], values);
        string st = dir.PathOf("one.safetensors");
        SafetensorsFile.Write(st, [("whatever", [4, 3], values, TensorDType.Float64)]);
        foreach (string path in new[] { npy, st })
        {
            var f = Assert.Single(FeatureFile.Load(path).Layers);
            Assert.Equal((4, 3), (f.SampleCount, f.Width));
            AssertBitEqual(values, f.Data);
        }
    }

    [Fact]
    public void SaveRefusesWhatTheFormatCannotHold()
    {
        using var dir = new TempDirectory();
        string npy = dir.PathOf("mixed.npy");
        var e = Assert.Throws<TensorFileException>(() => FeatureFile.Save(npy, Model(3, 2, 4)));
        Assert.StartsWith(npy + ": ", e.Message);
        Assert.Contains("differ in width", e.Message);

        string pt = dir.PathOf("f.pt");
        var ext = Assert.Throws<TensorFileException>(() => FeatureFile.Save(pt, Model(3, 2)));
        Assert.Contains("unsupported feature file extension '.pt'", ext.Message);
        Assert.Throws<ArgumentException>(() => FeatureFile.Save(dir.PathOf("f.npy"), Model(3, 2), TensorDType.BFloat16));
        Assert.Empty(Directory.GetFiles(dir.Root));

        string nowhere = Path.Combine(dir.Root, "missing-folder", "f.npy");
        var io = Assert.Throws<TensorFileException>(() => FeatureFile.Save(nowhere, Model(3, 2)));
        Assert.Contains("cannot write", io.Message);
    }
}
