using Prh.Alignment.IO;

namespace Prh.Extraction.Datasets;

/// <summary>How samples become model inputs: the image side, the normalisation, the vocabulary and the token count.</summary>
public sealed record DatasetOptions
{
    /// <summary>S: images become [3, S, S].</summary>
    public int ImageSize { get; init; } = 224;

    /// <summary>Normalise pixels with the ImageNet mean and standard deviation; false leaves them in [0, 1].</summary>
    public bool Normalize { get; init; } = true;

    /// <summary>The WordPiece vocabulary file (one token a line) that captions need; null for a set without captions.</summary>
    public string? VocabularyPath { get; init; }

    /// <summary>T: captions become T token ids, padded or cut.</summary>
    public int MaxTokens { get; init; } = 64;
}

/// <summary>
/// Builds a samples file's model inputs in memory: every sample checked, every image decoded and every
/// caption tokenized before anything is returned, so a bad sample fails the whole build and nothing is
/// written. The silos call <see cref="Build"/> for a sweep's inputs; <c>prh dataset build</c> calls it and
/// <see cref="BuiltDataset.WriteTo"/>.
/// </summary>
public static class DatasetBuilder
{
    public static BuiltDataset Build(string samplesPath, DatasetOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ImageSize < 1)
            throw new ExtractionException($"image size must be at least 1 pixel, not {options.ImageSize}");
        var samples = SampleFile.Read(samplesPath);
        bool images = samples[0].ImagePath is not null, captions = samples[0].Caption is not null;
        if (captions && options.VocabularyPath is null)
            throw new ExtractionException($"{samplesPath}: the samples have captions, so a WordPiece vocabulary file is needed to tokenize them");
        if (!captions && options.VocabularyPath is not null)
            throw new ExtractionException($"{samplesPath}: a vocabulary ({options.VocabularyPath}) was given but the samples have no captions");

        var ids = samples.Select(s => s.Id).ToList();
        var text = captions ? Tokenize(samplesPath, samples, CaptionTokenizer.FromFile(options.VocabularyPath!, options.MaxTokens)) : null;
        var pixels = images ? Decode(samplesPath, samples, options, cancellationToken) : null;
        return new BuiltDataset(ids, pixels, text?.InputIds, text?.AttentionMask, text?.TokenTypeIds, text?.CutIds ?? []);
    }

    private sealed record Tokens(Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds, IReadOnlyList<string> CutIds);

    private static Tokens Tokenize(string samplesPath, IReadOnlyList<Sample> samples, CaptionTokenizer tokenizer)
    {
        int n = samples.Count, t = tokenizer.MaxTokens;
        double[] inputIds = new double[n * t], mask = new double[n * t], typeIds = new double[n * t];
        var cut = new List<string>();
        for (int i = 0; i < n; i++)
        {
            var sample = samples[i];
            var encoded = tokenizer.Encode(sample.Caption!)
                ?? throw new ExtractionException($"{samplesPath}:{sample.Line}: sample '{sample.Id}': the caption has no token to encode");
            for (int k = 0; k < t; k++)
            {
                inputIds[i * t + k] = encoded.InputIds[k];
                mask[i * t + k] = encoded.AttentionMask[k];
                typeIds[i * t + k] = encoded.TokenTypeIds[k];
            }
            if (encoded.Cut) cut.Add(sample.Id);
        }
        int[] shape = [n, t];
        return new Tokens(new Tensor(BuiltDataset.InputIdsName, shape, TensorDType.Int64, inputIds),
            new Tensor(BuiltDataset.AttentionMaskName, shape, TensorDType.Int64, mask),
            new Tensor(BuiltDataset.TokenTypeIdsName, shape, TensorDType.Int64, typeIds), cut);
    }

    private static Tensor Decode(string samplesPath, IReadOnlyList<Sample> samples, DatasetOptions options, CancellationToken cancellationToken)
    {
        int n = samples.Count, s = options.ImageSize;
        long perImage = 3L * s * s;
        if (n * perImage > Array.MaxLength)
            throw new ExtractionException($"{samplesPath}: {n} images of 3 x {s} x {s} values are more than one array holds; use a smaller image size or fewer samples");
        var values = new double[n * perImage];
        // Each image fills its own slice, so the order of decoding does not matter; the first failure in
        // sample order is the one reported, whatever finished first.
        var failures = new ExtractionException?[n];
        Parallel.For(0, n, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            var sample = samples[i];
            try
            {
                ImageInput.Write(sample.ImagePath!, s, options.Normalize, values.AsSpan((int)(i * perImage), (int)perImage),
                    $"{samplesPath}:{sample.Line}: sample '{sample.Id}'");
            }
            catch (ExtractionException e)
            {
                failures[i] = e;
            }
        });
        if (failures.FirstOrDefault(f => f is not null) is { } first) throw first;
        return new Tensor(BuiltDataset.PixelsName, [n, 3, s, s], TensorDType.Float32, values);
    }
}
