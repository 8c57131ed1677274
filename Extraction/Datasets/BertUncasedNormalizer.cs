using System.Globalization;
using System.Text;
using ADRaffy.ENSNormalize;
using Microsoft.ML.Tokenizers;

namespace Prh.Extraction.Datasets;

/// <summary>
/// BERT uncased's text normalisation, the steps of its basic tokenizer before the punctuation split:
/// NUL, U+FFFD and every other control, format or unassigned character dropped; tab, newline, carriage
/// return and space separators made spaces; each CJK ideograph spaced into a word of its own; lower-cased;
/// decomposed (NFD) with its non-spacing marks (accents) dropped. It replaces the library's own, which,
/// under the InvariantGlobalization this code base runs with, keeps accents (string.Normalize does nothing
/// there), and which also deletes tabs and newlines instead of spacing them (dotnet/machinelearning#7724),
/// keeps format characters such as U+200B, drops spacing marks BERT keeps and recomposes (NFC) what BERT
/// leaves decomposed.
/// </summary>
internal sealed class BertUncasedNormalizer : Normalizer
{
    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        var cleaned = new StringBuilder(original.Length);
        foreach (var rune in Runes(original))
        {
            if (rune.Value is 0 or 0xFFFD) continue;
            if (rune.Value is '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator) cleaned.Append(' ');
            else if (IsOther(Rune.GetUnicodeCategory(rune))) continue;
            else if (IsCjk(rune.Value)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }
        string decomposed = ENSNormalize.NF.NFD(cleaned.ToString().ToLowerInvariant());
        var stripped = new StringBuilder(decomposed.Length);
        foreach (var rune in Runes(decomposed))
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) stripped.Append(rune.ToString());
        return stripped.ToString();
    }

    /// <summary>The code points of <paramref name="text"/>; a lone surrogate comes out as U+FFFD.</summary>
    private static List<Rune> Runes(ReadOnlySpan<char> text)
    {
        var runes = new List<Rune>(text.Length);
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text[i..], out var rune, out int used);
            runes.Add(rune);
            i += used;
        }
        return runes;
    }

    /// <summary>Unicode's "C" categories, which BERT treats as control characters (tab, newline and carriage return are spaces, tested first).</summary>
    private static bool IsOther(UnicodeCategory category) => category is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    /// <summary>BERT's "Chinese character": the CJK Unified Ideographs blocks and their extensions and compatibility blocks.</summary>
    private static bool IsCjk(int codePoint) => codePoint is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
        or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
