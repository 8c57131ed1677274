namespace Prh.Contracts.Datasets;

/// <summary>
/// Raw samples to build a dataset's inputs from, on the silos: a SAMPLES.tsv (<c>id, image path, caption</c>
/// per line), images padded to a square, resized to <see cref="ImageSize"/> and (with <see cref="Normalize"/>)
/// normalised with the ImageNet mean and std into <c>pixels</c>; captions tokenized with the BERT vocabulary
/// <see cref="Vocab"/> into <c>input_ids</c>, <c>attention_mask</c> and <c>token_type_ids</c> of
/// <see cref="MaxTokens"/> tokens. The same as <c>prh dataset build</c>; the file's ids are the dataset's samples.
/// </summary>
[GenerateSerializer, Immutable, Alias("prh.DatasetBuild")]
public sealed record DatasetBuild(
    [property: Id(0)] string Samples,
    [property: Id(1)] int ImageSize = 224,
    [property: Id(2)] bool Normalize = true,
    [property: Id(3)] string? Vocab = null,
    [property: Id(4)] int MaxTokens = 64);
