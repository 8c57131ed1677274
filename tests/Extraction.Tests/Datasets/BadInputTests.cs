using System.Text;
using Prh.Extraction.Datasets;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>Each bad samples file, image or vocabulary fails the whole build with a message naming the file, the line and the sample.</summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-bad-").FullName;
    private readonly string _vocab;
    private readonly string _stamp, _otherStamp;

    public BadInputTests()
    {
        _vocab = Stamps.WriteMiniLmVocabulary(_dir);
        _stamp = Stamps.Pairs[0].ImagePath;
        _otherStamp = Stamps.Pairs[1].ImagePath;
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Samples(params string[] lines)
    {
        string path = Path.Combine(_dir, "samples.tsv");
        File.WriteAllText(path, string.Join("\n", lines) + "\n");
        return path;
    }

    private static BuiltDataset Build(string samples, string? vocab = null, int maxTokens = 64) =>
        DatasetBuilder.Build(samples, new DatasetOptions { ImageSize = 16, VocabularyPath = vocab, MaxTokens = maxTokens });

    private static ExtractionException Fails(string samples, string? vocab = null, int maxTokens = 64) =>
        Assert.Throws<ExtractionException>(() => Build(samples, vocab, maxTokens));

    private string Vocabulary(byte[] content, string name = "bad-vocab.txt")
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    [Fact]
    public void Missing_image_names_the_line_the_sample_and_the_path()
    {
        var e = Fails(Samples($"a\t{_stamp}\tA cat.", "b\tmissing/dog.png\tA dog."), _vocab);
        Assert.StartsWith($"{Path.Combine(_dir, "samples.tsv")}:2: sample 'b': image ", e.Message);
        Assert.Contains(Path.Combine(_dir, "missing", "dog.png"), e.Message);
        Assert.Contains("not found", e.Message);
    }

    [Fact]
    public void Undecodable_images_name_the_sample()
    {
        File.WriteAllText(Path.Combine(_dir, "text.png"), "not an image at all");
        var e = Fails(Samples($"a\t{_stamp}\t", "b\ttext.png\t"));
        Assert.Contains(":2: sample 'b': image ", e.Message);
        Assert.Contains("cannot be decoded", e.Message);

        byte[] png = File.ReadAllBytes(_stamp);
        File.WriteAllBytes(Path.Combine(_dir, "cut.png"), png[..(png.Length / 2)]);
        e = Fails(Samples($"a\t{_stamp}\t", "# a comment", "c\tcut.png\t"));
        Assert.Contains(":3: sample 'c': image ", e.Message);
        Assert.Contains("truncated or corrupt", e.Message);
    }

    [Fact]
    public void The_first_bad_image_in_sample_order_is_the_one_named()
    {
        var lines = Enumerable.Range(0, 12).Select(i => $"s{i}\t{(i is 5 or 9 ? $"gone{i}.png" : _stamp)}\t").ToArray();
        Assert.Contains("sample 's5'", Fails(Samples(lines)).Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public void Empty_caption_among_captions_names_its_line(string caption)
    {
        var e = Fails(Samples("a\t\tA cat.", $"b\t\t{caption}"), _vocab);
        Assert.Contains(":2: sample 'b' has an empty caption but sample 'a' (line 1) has one", e.Message);
    }

    [Fact]
    public void Caption_with_no_token_names_its_line()
    {
        // Zero-width spaces and a private-use character: BERT drops them all.
        var e = Fails(Samples("a\t\tA cat.", "b\t\t\u200B \uE000\u200B"), _vocab);
        Assert.Contains(":2: sample 'b': the caption has no token", e.Message);
    }

    [Fact]
    public void Caption_longer_than_T_is_cut_and_counted_not_refused()
    {
        var dataset = Build(Samples("a\t\tA cat.", "b\t\tA very long caption about a dog that runs."), _vocab, maxTokens: 5);
        Assert.Equal(["b"], dataset.CutIds);
        Assert.Equal([101, 1037, 4937, 1012, 102, 101, 1037, 2200, 2146, 102], dataset.InputIds!.Values.Select(v => (long)v));
    }

    [Fact]
    public void Repeated_id_names_both_lines()
    {
        var e = Fails(Samples("a\t\tA cat.", "b\t\tA dog.", "", "a\t\tA bird."), _vocab);
        Assert.Contains(":4: sample id 'a' appears twice (lines 1 and 4)", e.Message);
    }

    [Theory]
    [InlineData("../etc")]
    [InlineData("a b")]
    [InlineData("-dash")]
    [InlineData("a..b")]
    [InlineData("")]
    [InlineData("é")]
    public void Unsafe_id_is_refused_by_the_shared_rule(string id)
    {
        Assert.False(SafeName.IsSafe(id));
        Assert.False(Grains.Sweeps.SweepValidation.IsSafeName(id));
        var e = Fails(Samples("ok\t\tA cat.", $"{id}\t\tA dog."), _vocab);
        Assert.Contains($":2: sample id '{id}' is not a safe name", e.Message);
    }

    [Theory]
    [InlineData("a\tA cat.", 2)]
    [InlineData("a", 1)]
    [InlineData("a\t\tA cat.\textra", 4)]
    public void Wrong_number_of_columns_names_the_line(string line, int columns)
    {
        var e = Fails(Samples("ok\t\tA dog.", line), _vocab);
        Assert.Contains($":2: {columns} tab-separated column", e.Message);
        Assert.Contains("expected 3", e.Message);
    }

    [Fact]
    public void A_modality_on_some_lines_only_is_refused()
    {
        var e = Fails(Samples($"a\t{_stamp}\tA cat.", "b\t\tA dog."), _vocab);
        Assert.Contains(":2: sample 'b' has an empty image path but sample 'a' (line 1) has one; give every sample an image path, or none", e.Message);
        e = Fails(Samples($"a\t{_stamp}\t", "b\t\tA dog."), _vocab);
        Assert.Contains(":1: sample 'a' has an empty caption but sample 'b' (line 2) has one; give every sample a caption, or none", e.Message);
        e = Fails(Samples("a\t\t", "b\t\t"));
        Assert.Contains("samples.tsv: no sample has an image or a caption", e.Message);
    }

    [Fact]
    public void No_samples_and_no_file_are_refused()
    {
        Assert.Contains("no samples", Fails(Samples("# only a comment", "", "   ")).Message);
        Assert.Contains("no such samples file", Fails(Path.Combine(_dir, "absent.tsv")).Message);
        File.WriteAllBytes(Path.Combine(_dir, "latin1.tsv"), [(byte)'a', 9, 9, (byte)'c', 0xE9, (byte)'\n']);
        Assert.Contains("not a UTF-8 text file", Fails(Path.Combine(_dir, "latin1.tsv"), _vocab).Message);
    }

    [Fact]
    public void Images_without_captions_or_vocabulary_build_and_captions_without_images_too()
    {
        var images = Build(Samples($"a\t{_stamp}\t", $"b\t{_otherStamp}\t"));
        Assert.Equal([2, 3, 16, 16], images.Pixels!.Shape);
        Assert.Null(images.InputIds);
        Assert.Equal(["a", "b"], images.Ids);

        var captions = Build(Samples("a\t\tA cat.", "b\t\tA dog."), _vocab);
        Assert.Null(captions.Pixels);
        Assert.Equal([2, 64], captions.InputIds!.Shape);
        Assert.Equal([captions.InputIds, captions.AttentionMask!, captions.TokenTypeIds!], captions.Tensors);
    }

    [Fact]
    public void Captions_need_a_vocabulary_and_a_vocabulary_needs_captions()
    {
        Assert.Contains("a WordPiece vocabulary file is needed", Fails(Samples("a\t\tA cat.")).Message);
        Assert.Contains("was given but the samples have no captions", Fails(Samples($"a\t{_stamp}\t"), _vocab).Message);
    }

    [Fact]
    public void Files_that_are_not_a_vocabulary_are_refused_naming_them()
    {
        string samples = Samples("a\t\tA cat.");
        string empty = Vocabulary([]);
        Assert.Equal($"{empty}: empty; a WordPiece vocabulary has one token a line", Fails(samples, empty).Message);

        string lacking = Vocabulary(Encoding.UTF8.GetBytes("[PAD]\n[UNK]\na\ncat\n.\n"));
        var e = Fails(samples, lacking);
        Assert.Contains($"{lacking}: not a BERT WordPiece vocabulary: it lacks [CLS], [SEP], [MASK]", e.Message);

        string binary = Vocabulary(File.ReadAllBytes(_stamp));
        Assert.Contains($"{binary}: a binary file", Fails(samples, binary).Message);

        string latin1 = Vocabulary([.. "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ncaf"u8, 0xE9, (byte)'\n']);
        Assert.Contains($"{latin1}: not UTF-8 text", Fails(samples, latin1).Message);

        string twice = Vocabulary(Encoding.UTF8.GetBytes("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ncat\ncat\n"));
        Assert.Contains($"{twice}: token 'cat' appears twice (lines 6 and 7)", Fails(samples, twice).Message);

        string absent = Path.Combine(_dir, "no-vocab.txt");
        Assert.Contains($"{absent}: no such vocabulary file", Fails(samples, absent).Message);
    }

    [Fact]
    public void A_small_vocabulary_with_a_byte_order_mark_works()
    {
        string vocab = Vocabulary(Encoding.UTF8.GetBytes("\uFEFF[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\ncat\n.\n"));
        var dataset = Build(Samples("a\t\tA cat.", "b\t\tA dog."), vocab, maxTokens: 6);
        Assert.Equal([2, 5, 6, 7, 3, 0, 2, 5, 1, 7, 3, 0], dataset.InputIds!.Values.Select(v => (long)v));
        Assert.Equal([1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0], dataset.AttentionMask!.Values.Select(v => (long)v));
    }

    [Fact]
    public void Options_out_of_range_are_refused()
    {
        Assert.Contains("image size must be at least 1", Assert.Throws<ExtractionException>(() =>
            DatasetBuilder.Build(Samples($"a\t{_stamp}\t"), new DatasetOptions { ImageSize = 0 })).Message);
        Assert.Contains("max tokens must be at least 3", Fails(Samples("a\t\tA cat."), _vocab, maxTokens: 2).Message);
    }
}
