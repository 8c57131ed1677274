using Prh.Alignment.Features;
using Prh.Alignment.IO;
using Prh.Alignment.Metrics;
using Prh.Alignment.Scoring;
using Prh.Alignment.Sketches;
using Prh.Alignment.Tests.Fixtures;

namespace Prh.Alignment.Tests.IO;

/// <summary><see cref="FeatureFile.Open"/>: layers read from the file on demand give what <see cref="FeatureFile.Load"/> gives.</summary>
public sealed class StreamedFeatureTests
{
    private static string TempFile(string name) => Path.Combine(Directory.CreateTempSubdirectory("prh-stream-").FullName, name);

    [Theory]
    [InlineData(TensorDType.Float32, 3)]
    [InlineData(TensorDType.Float64, 3)]
    [InlineData(TensorDType.Float16, 1)]
    public void Streamed_layers_equal_loaded_layers(TensorDType dtype, int layers)
    {
        var model = SyntheticZoo.Model("m", 37, layers, 11, seed: 3);
        string path = TempFile("m.npy");
        FeatureFile.Save(path, model, dtype);
        var loaded = FeatureFile.Load(path);
        var streamed = FeatureFile.Open(path);
        Assert.Equal(loaded.LayerCount, streamed.LayerCount);
        for (int l = 0; l < loaded.LayerCount; l++)
        {
            Assert.False(streamed.Layers[l].IsInMemory);
            Assert.Equal(loaded.Layers[l].Data, streamed.Layers[l].ToArray());
        }
        Assert.Equal(FeaturePreparation.ClampThreshold(loaded), FeaturePreparation.ClampThreshold(streamed));
        var prepared = FeaturePreparation.Prepare(loaded);
        var preparedStreamed = FeaturePreparation.Prepare(streamed);
        for (int l = 0; l < loaded.LayerCount; l++)
            Assert.Equal(prepared.Layers[l].Data, preparedStreamed.Layers[l].ToArray());
    }

    [Fact]
    public void Compute_score_on_streamed_fixture_models_equals_in_memory()
    {
        var pipeline = FixtureSet.Manifest.GetProperty("pipeline").GetProperty("models");
        string x = FixtureSet.Path(pipeline[0].GetProperty("file").GetString()!);
        string y = FixtureSet.Path(pipeline[3].GetProperty("file").GetString()!);
        foreach (string metric in new[] { "mutual_knn", "cka", "unbiased_cka", "cknna" })
        {
            var spec = MetricSpec.ForComputeScore(metric, 10);
            var memory = AlignmentScoring.ComputeScore(new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Load(x))),
                new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Load(y))), spec);
            var streamed = AlignmentScoring.ComputeScore(new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Open(x))),
                new ModelSketch(FeaturePreparation.Prepare(FeatureFile.Open(y))), spec);
            Assert.Equal(memory.Scores, streamed.Scores);
            Assert.Equal(memory.BestIndices, streamed.BestIndices);
        }
    }

    [Fact]
    public void A_non_finite_value_is_reported_with_its_position_when_the_layer_is_read()
    {
        var model = SyntheticZoo.Model("m", 5, 3, 4, seed: 4);
        model.Layers[2].Data[1 * 4 + 3] = double.NaN; // sample 1, layer 2, feature 3
        string path = TempFile("nan.npy");
        var block = new double[5 * 3 * 4];
        for (int i = 0; i < 5; i++)
            for (int l = 0; l < 3; l++)
                model.Layers[l].Data.AsSpan(i * 4, 4).CopyTo(block.AsSpan((i * 3 + l) * 4, 4));
        WriteRawNpy(path, [5, 3, 4], block);
        var streamed = FeatureFile.Open(path);
        streamed.Layers[0].ToArray(); // other layers read fine
        var error = Assert.Throws<TensorFileException>(() => streamed.Layers[2].ToArray());
        Assert.Contains(path, error.Message);
        Assert.Contains("[1, 2, 3]", error.Message);
    }

    [Fact]
    public void A_file_that_changes_size_after_opening_is_refused_on_read()
    {
        string path = TempFile("m.npy");
        FeatureFile.Save(path, SyntheticZoo.Model("m", 6, 2, 3, seed: 5));
        var streamed = FeatureFile.Open(path);
        File.AppendAllText(path, "extra");
        var error = Assert.Throws<TensorFileException>(() => streamed.Layers[0].ToArray());
        Assert.Contains("changed while in use", error.Message);
    }

    /// <summary>A float64 .npy written byte by byte, NaN included (the writers refuse NaN).</summary>
    private static void WriteRawNpy(string path, int[] shape, double[] values)
    {
        string header = $"{{'descr': '<f8', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}), }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        using var stream = File.Create(path);
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        stream.Write(BitConverter.GetBytes((ushort)header.Length));
        stream.Write(System.Text.Encoding.ASCII.GetBytes(header));
        foreach (double v in values) stream.Write(BitConverter.GetBytes(v));
    }
}
