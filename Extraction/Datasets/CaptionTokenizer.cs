using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Prh.Extraction.Datasets;

/// <summary>One caption as model inputs: <see cref="CaptionTokenizer.MaxTokens"/> token ids, mask and type ids, and whether it was cut.</summary>
public sealed record TokenizedCaption(long[] InputIds, long[] AttentionMask, long[] TokenTypeIds, bool Cut);

/// <summary>
/// Captions to BERT inputs with Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/> over a WordPiece
/// vocabulary file (one token a line, the line number its id), as BERT uncased tokenizes: cleaned,
/// lower-cased, accents stripped, CJK characters split (<see cref="BertUncasedNormalizer"/>), punctuation
/// split, WordPiece, <c>[CLS] ... [SEP]</c>, padded with <c>[PAD]</c> (mask 0) or cut to
/// <see cref="MaxTokens"/> with <c>[SEP]</c> kept last.
/// </summary>
public sealed partial class CaptionTokenizer
{
    /// <summary>The tokens every BERT vocabulary has and the encoding uses (the tokenizer looks each up).</summary>
    private static readonly string[] s_required = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private readonly BertTokenizer _tokenizer;

    private CaptionTokenizer(BertTokenizer tokenizer, int maxTokens)
    {
        _tokenizer = tokenizer;
        MaxTokens = maxTokens;
    }

    public int MaxTokens { get; }

    /// <summary>
    /// BERT's pre-tokenization: words split at whitespace and at every punctuation character, which for
    /// BERT is Unicode punctuation and every ASCII symbol (<c>$ + &lt; = &gt; ^ ` | ~</c>). The library's own
    /// pattern drops symbol characters altogether (dotnet/machinelearning#7725), so this one replaces it:
    /// any other character stays in its word for WordPiece, as in BERT.
    /// </summary>
    [GeneratedRegex(@"[^\s\p{P}$+<=>^`|~]+|[\p{P}$+<=>^`|~]")]
    private static partial Regex WordOrPunctuation();

    /// <summary>The tokenizer of a vocabulary file; a file that is not a WordPiece vocabulary is refused, naming it.</summary>
    public static CaptionTokenizer FromFile(string vocabularyPath, int maxTokens)
    {
        if (maxTokens < 3)
            throw new ExtractionException($"max tokens must be at least 3 ([CLS], one token, [SEP]), not {maxTokens}");
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(vocabularyPath);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ExtractionException($"{vocabularyPath}: no such vocabulary file", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExtractionException($"{vocabularyPath}: cannot read: {e.Message}", e);
        }
        var ids = ReadVocabulary(vocabularyPath, bytes);
        // The tokenizer matches special tokens after lower-casing the text, so it looks them up lower-cased.
        var special = s_required.ToDictionary(t => t.ToLowerInvariant(), t => ids[t], StringComparer.Ordinal);
        var options = new BertOptions
        {
            // Lower-cases the special tokens too, so "[SEP]" in a caption is still the separator, as in BERT.
            LowerCaseBeforeTokenization = true,
            Normalizer = new BertUncasedNormalizer(),
            PreTokenizer = new RegexPreTokenizer(WordOrPunctuation(), special),
        };
        using var stream = new MemoryStream(bytes, writable: false);
        return new CaptionTokenizer(BertTokenizer.Create(stream, options), maxTokens);
    }

    /// <summary>Token to id (its line number from 0), checked: UTF-8 text, no token twice, every required token present.</summary>
    private static Dictionary<string, int> ReadVocabulary(string path, byte[] bytes)
    {
        if (bytes.Length == 0)
            throw new ExtractionException($"{path}: empty; a WordPiece vocabulary has one token a line");
        if (Array.IndexOf(bytes, (byte)0) >= 0)
            throw new ExtractionException($"{path}: a binary file (it holds NUL bytes), not a WordPiece vocabulary (UTF-8 text, one token a line)");
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new ExtractionException($"{path}: not UTF-8 text ({e.Message}), so not a WordPiece vocabulary", e);
        }
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        // A byte order mark is not part of the first token (the tokenizer's own reader drops it too).
        using var reader = new StringReader(text.StartsWith('\uFEFF') ? text[1..] : text);
        for (int line = 0; reader.ReadLine() is { } token; line++)
        {
            if (token.Length == 0) continue;
            if (!ids.TryAdd(token, line))
                throw new ExtractionException($"{path}: token '{token}' appears twice (lines {ids[token] + 1} and {line + 1})");
        }
        var missing = s_required.Where(t => !ids.ContainsKey(t)).ToList();
        if (missing.Count > 0)
            throw new ExtractionException(
                $"{path}: not a BERT WordPiece vocabulary: it lacks {string.Join(", ", missing)} ({ids.Count} tokens read; every BERT vocabulary has " +
                $"{string.Join(", ", s_required)})");
        return ids;
    }

    /// <summary>The caption's ids, mask and type ids, <see cref="MaxTokens"/> long; null for a caption with no token (blank, or only characters BERT drops).</summary>
    public TokenizedCaption? Encode(string caption)
    {
        var tokens = _tokenizer.EncodeToIds(caption, addSpecialTokens: true);
        if (tokens.Count <= 2) return null;
        var ids = new long[MaxTokens];
        var mask = new long[MaxTokens];
        int kept = Math.Min(tokens.Count, MaxTokens);
        for (int i = 0; i < kept; i++)
        {
            ids[i] = tokens[i];
            mask[i] = 1;
        }
        bool cut = tokens.Count > MaxTokens;
        if (cut) ids[MaxTokens - 1] = _tokenizer.SeparatorTokenId;
        for (int i = kept; i < MaxTokens; i++) ids[i] = _tokenizer.PaddingTokenId;
        return new TokenizedCaption(ids, mask, new long[MaxTokens], cut);
    }
}
