using System.CommandLine;
using Prh.Extraction.Datasets;

namespace Prh.Client.Commands;

/// <summary>
/// <c>prh dataset build SAMPLES.tsv --out DIR [--image-size S] [--no-normalize] [--vocab VOCAB.txt
/// --max-tokens T]</c>: a samples file's images and captions as model inputs (<see cref="DatasetBuilder"/>),
/// written as <c>pixels.npy</c>, <c>input_ids.npy</c>, <c>attention_mask.npy</c>, <c>token_type_ids.npy</c>
/// (the modalities present) and <c>samples.txt</c>; a bad sample writes nothing.
/// </summary>
internal static class DatasetCommand
{
    private const int CutIdsShown = 5;

    public static Command Build()
    {
        var samples = new Argument<string>("SAMPLES") { Description = "Samples file: id<TAB>image path<TAB>caption a line (paths relative to it; a column may be empty on every line)" };
        var output = new Option<string>("--out") { Description = "Folder for the .npy inputs and samples.txt", Required = true };
        var defaults = new DatasetOptions();
        var imageSize = new Option<int>("--image-size") { Description = "S: images become [3, S, S]", DefaultValueFactory = _ => defaults.ImageSize };
        var noNormalize = new Option<bool>("--no-normalize") { Description = "Leave pixels in [0, 1] instead of normalising with the ImageNet mean and std" };
        var vocab = new Option<string?>("--vocab") { Description = "WordPiece vocabulary (vocab.txt, one token a line) to tokenize the captions with, BERT uncased" };
        var maxTokens = new Option<int>("--max-tokens") { Description = "T: captions become T tokens, padded or cut", DefaultValueFactory = _ => defaults.MaxTokens };
        var build = new Command("build", "Turn a samples file's images and captions into model inputs (.npy) and a list of sample ids.")
        {
            samples, output, imageSize, noNormalize, vocab, maxTokens,
        };
        build.SetAction((parse, cancellationToken) => Task.FromResult(CommandErrors.Run(() =>
        {
            string samplesPath = parse.GetValue(samples)!, folder = parse.GetValue(output)!;
            var options = new DatasetOptions
            {
                ImageSize = parse.GetValue(imageSize),
                Normalize = !parse.GetValue(noNormalize),
                VocabularyPath = parse.GetValue(vocab),
                MaxTokens = parse.GetValue(maxTokens),
            };
            var dataset = DatasetBuilder.Build(samplesPath, options, cancellationToken);
            var written = dataset.WriteTo(folder);
            Console.Out.WriteLine($"{samplesPath}: N = {dataset.Count} samples -> {folder}");
            foreach (var tensor in dataset.Tensors)
                Console.Out.WriteLine($"  {tensor.Name}.npy  {tensor.SourceType.ToString().ToLowerInvariant()} [{string.Join(", ", tensor.Shape)}]");
            Console.Out.WriteLine($"  {Path.GetFileName(written[^1])}  {dataset.Count} ids");
            if (dataset.InputIds is not null)
            {
                var cut = dataset.CutIds;
                string which = cut.Count == 0 ? "" : $" ({string.Join(", ", cut.Take(CutIdsShown))}{(cut.Count > CutIdsShown ? ", ..." : "")})";
                Console.Out.WriteLine($"captions cut to {options.MaxTokens} tokens: {cut.Count}{which}");
            }
            return 0;
        })));
        var dataset = new Command("dataset", "Datasets: build model inputs from image-caption samples.");
        dataset.Subcommands.Add(build);
        return dataset;
    }
}
