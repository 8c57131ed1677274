using Prh.Alignment.IO;
using Prh.Extraction.Datasets;
using Prh.TestSupport;

namespace Prh.Extraction.Tests.Datasets;

/// <summary><c>prh dataset build</c> run as a process on the Tux Paint stamps.</summary>
public sealed class DatasetCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Builds_every_stamp_and_caption_into_the_libraries_npy_files()
    {
        string samples = Path.Combine(_dir, "samples.tsv"), vocab = Stamps.WriteMiniLmVocabulary(_dir), output = Path.Combine(_dir, "inputs");
        TuxpaintStamps.WriteSamples(Stamps.Root, samples);
        var run = PrhProcess.Run("dataset", "build", samples, "--out", output, "--image-size", "32", "--vocab", vocab, "--max-tokens", "12");
        Assert.True(run.ExitCode == 0, run.Stderr);

        var expected = DatasetBuilder.Build(samples, new DatasetOptions { ImageSize = 32, VocabularyPath = vocab, MaxTokens = 12 });
        Assert.Contains($"N = 627 samples -> {output}", run.Stdout);
        Assert.Contains("pixels.npy  float32 [627, 3, 32, 32]", run.Stdout);
        Assert.Contains("input_ids.npy  int64 [627, 12]", run.Stdout);
        Assert.Contains("attention_mask.npy  int64 [627, 12]", run.Stdout);
        Assert.Contains("token_type_ids.npy  int64 [627, 12]", run.Stdout);
        Assert.Contains("samples.txt  627 ids", run.Stdout);
        Assert.Contains($"captions cut to 12 tokens: {expected.CutIds.Count} ({string.Join(", ", expected.CutIds.Take(5))}, ...)", run.Stdout);
        Assert.InRange(expected.CutIds.Count, 6, 626);

        Assert.Equal(["attention_mask.npy", "input_ids.npy", "pixels.npy", "samples.txt", "token_type_ids.npy"],
            Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var tensor in expected.Tensors)
        {
            var written = NpyFile.Read(Path.Combine(output, tensor.Name + ".npy"));
            Assert.Equal(tensor.SourceType, written.SourceType);
            Assert.Equal(tensor.Shape, written.Shape);
            Assert.Equal(tensor.Values.Select(v => (double)(float)v), written.Values);
        }
        Assert.Equal(expected.Ids, File.ReadAllLines(Path.Combine(output, "samples.txt")));
    }

    [Fact]
    public void Images_only_without_normalisation_and_stale_token_files_removed()
    {
        var pairs = Stamps.Pairs.Take(5).ToList();
        string samples = Stamps.WriteSamples(_dir, pairs, captions: false), output = Path.Combine(_dir, "images");
        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "input_ids.npy"), "from an earlier build");
        var run = PrhProcess.Run("dataset", "build", samples, "--out", output, "--image-size", "8", "--no-normalize");
        Assert.True(run.ExitCode == 0, run.Stderr);
        Assert.Contains("pixels.npy  float32 [5, 3, 8, 8]", run.Stdout);
        Assert.DoesNotContain("captions", run.Stdout);
        Assert.Equal(["pixels.npy", "samples.txt"], Directory.GetFiles(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.All(NpyFile.Read(Path.Combine(output, "pixels.npy")).Values, v => Assert.InRange(v, 0, 1));
    }

    [Fact]
    public void A_bad_sample_exits_1_naming_it_and_writes_nothing()
    {
        var pairs = Stamps.Pairs.Take(3).Select((p, i) => i == 2 ? (p.Id, "gone.png", p.Caption) : p);
        string samples = Stamps.WriteSamples(_dir, pairs), output = Path.Combine(_dir, "out");
        var run = PrhProcess.Run("dataset", "build", samples, "--out", output, "--vocab", Stamps.WriteMiniLmVocabulary(_dir));
        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith($"prh: error: ExtractionError: {samples}:3: sample '{Stamps.Pairs[2].Id}': image ", run.Stderr);
        Assert.False(Directory.Exists(output));

        Directory.CreateDirectory(output);
        File.WriteAllText(Path.Combine(output, "samples.txt"), "kept\n");
        run = PrhProcess.Run("dataset", "build", samples, "--out", output);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("a WordPiece vocabulary file is needed", run.Stderr);
        Assert.Equal(["samples.txt"], Directory.GetFiles(output).Select(Path.GetFileName));
        Assert.Equal("kept\n", File.ReadAllText(Path.Combine(output, "samples.txt")));
    }
}
